//! Danish word lists the simulator draws its companies, products and buyers from.

/// A simulated company: its name and the stem of its `.dk` domain.
pub(crate) struct Company {
    pub name: &'static str,
    pub stem: &'static str,
}

const fn c(name: &'static str, stem: &'static str) -> Company {
    Company { name, stem }
}

pub(crate) const COMPANIES: &[Company] = &[
    c("Hyggehjem ApS", "hyggehjem"),
    c("Nordlys Keramik", "nordlyskeramik"),
    c("Fynsk Kaffe I/S", "fynskkaffe"),
    c("Bølgen Design ApS", "boelgendesign"),
    c("Skovbo Uld", "skovbould"),
    c("Havblik Interiør ApS", "havblik"),
    c("Lynge Honning", "lyngehonning"),
    c("Bornholmer Glas A/S", "bornholmerglas"),
    c("Vesterhavets Sæbe", "vesterhavssaebe"),
    c("Kløvermarken ApS", "kloevermarken"),
    c("Stenbro Papir", "stenbropapir"),
    c("Mølleåen Tekstil ApS", "moelleaaen"),
    c("Grenaa Chokolade I/S", "grenaachokolade"),
    c("Lille Lysestøberi", "lillelys"),
    c("Strandgade Brygkaffe", "strandgadekaffe"),
    c("Egeskov Træ ApS", "egeskovtrae"),
    c("Fjordens Te", "fjordenste"),
    c("Østerbro Strik", "oesterbrostrik"),
    c("Hedens Hus ApS", "hedenshus"),
    c("Kystlys Keramik", "kystlys"),
    c("Rugbrødsbageren I/S", "rugbroedsbageren"),
    c("Nørrebro Plakater", "noerrebroplakater"),
    c("Sølvbæk Smykker ApS", "soelvbaek"),
    c("Marsk & Mose", "marskogmose"),
    c("Tranum Tæpper A/S", "tranumtaepper"),
    c("Djurs Delikatesser", "djursdeli"),
    c("Himmerland Hør ApS", "himmerlandhoer"),
    c("Vadehavets Salt", "vadehavetssalt"),
    c("Birkely Børnetøj", "birkely"),
    c("Klitgaard Køkken ApS", "klitgaardkoekken"),
    c("Langeland Lammeskind", "langelandskind"),
    c("Amager Kaffebrænderi", "amagerkaffe"),
    c("Solsikken Økologi I/S", "solsikken"),
    c("Gudenå Gaver", "gudenaagaver"),
    c("Rosenhaven Blomster ApS", "rosenhaven"),
    c("Vejle Vinkælder", "vejlevin"),
    c("Humlebæk Hjem", "humlebaekhjem"),
    c("Thy Tovværk ApS", "thytovvaerk"),
    c("Mols Bjerge Most", "molsmost"),
    c("Svanemøllen Sko", "svanemoellensko"),
    c("Odsherred Oliven ApS", "odsherredoliven"),
    c("Ærø Flaskepost", "aeroeflaskepost"),
    c("Kattegat Kunst", "kattegatkunst"),
    c("Silkeborg Sengetøj A/S", "silkeborgsengetoej"),
    c("Frederiksberg Fade", "frederiksbergfade"),
    c("Limfjordens Lakrids I/S", "limfjordslakrids"),
    c("Hjertegaarden ApS", "hjertegaarden"),
    c("Rødding Redskaber", "roeddingredskaber"),
];

/// A product family: a stem, its SKU code, a base price (DKK incl. VAT) and two attributes
/// (a colour, origin or flavour; a size), each a display name and a SKU code.
pub(crate) struct Family {
    pub stem: &'static str,
    pub code: &'static str,
    pub base_price: u32,
    pub kinds: &'static [(&'static str, &'static str)],
    pub sizes: &'static [(&'static str, &'static str, f64)],
}

const COLOURS: &[(&str, &str)] = &[
    ("blå", "BL"),
    ("hvid", "HV"),
    ("sort", "SO"),
    ("grøn", "GR"),
    ("rød", "RD"),
    ("sand", "SA"),
    ("grå", "GA"),
    ("okker", "OK"),
    ("rosa", "RO"),
    ("natur", "NA"),
];

const ORIGINS: &[(&str, &str)] =
    &[("Etiopien", "ETI"), ("Colombia", "COL"), ("Brasilien", "BRA"), ("Kenya", "KEN"), ("Guatemala", "GUA")];

const FLAVOURS: &[(&str, &str)] =
    &[("lakrids", "LAK"), ("havsalt", "SAL"), ("hindbær", "HIN"), ("mørk", "MRK"), ("lys", "LYS"), ("appelsin", "APP")];

const SCENTS: &[(&str, &str)] = &[("lavendel", "LAV"), ("rosmarin", "ROS"), ("havtorn", "HAV"), ("neutral", "NEU")];

const fn f(
    stem: &'static str,
    code: &'static str,
    base_price: u32,
    kinds: &'static [(&'static str, &'static str)],
    sizes: &'static [(&'static str, &'static str, f64)],
) -> Family {
    Family { stem, code, base_price, kinds, sizes }
}

pub(crate) const FAMILIES: &[Family] = &[
    f("Kaffekop", "KOP", 89, COLOURS, &[("20 cl", "20", 1.0), ("25 cl", "25", 1.1), ("30 cl", "30", 1.25)]),
    f("Tallerken", "TAL", 119, COLOURS, &[("19 cm", "19", 1.0), ("22 cm", "22", 1.2), ("27 cm", "27", 1.5)]),
    f("Skål", "SKL", 99, COLOURS, &[("12 cm", "12", 1.0), ("16 cm", "16", 1.3), ("24 cm", "24", 1.9)]),
    f("Vase", "VAS", 249, COLOURS, &[("12 cm", "12", 1.0), ("20 cm", "20", 1.6), ("30 cm", "30", 2.4)]),
    f("Lysestage", "LYS", 179, COLOURS, &[("lav", "L", 1.0), ("høj", "H", 1.4)]),
    f("Uldplaid", "PLD", 699, COLOURS, &[("130x170", "130", 1.0), ("150x200", "150", 1.3)]),
    f("Pudebetræk", "PUD", 199, COLOURS, &[("40x40", "40", 1.0), ("50x50", "50", 1.2), ("60x60", "60", 1.4)]),
    f("Kaffebønner", "KAF", 69, ORIGINS, &[("250 g", "250", 1.0), ("500 g", "500", 1.8), ("1 kg", "1000", 3.3)]),
    f("Te", "TE", 59, FLAVOURS, &[("50 g", "50", 1.0), ("100 g", "100", 1.7)]),
    f("Håndsæbe", "SAE", 79, SCENTS, &[("250 ml", "250", 1.0), ("500 ml", "500", 1.6)]),
    f("Stearinlys", "STL", 49, COLOURS, &[("2-pak", "2", 1.0), ("4-pak", "4", 1.8), ("8-pak", "8", 3.2)]),
    f("Viskestykke", "VSK", 69, COLOURS, &[("1 stk", "1", 1.0), ("3 stk", "3", 2.5)]),
    f("Krus", "KRS", 129, COLOURS, &[("30 cl", "30", 1.0), ("40 cl", "40", 1.15)]),
    f("Kande", "KND", 299, COLOURS, &[("0,5 l", "05", 1.0), ("1 l", "10", 1.4), ("1,5 l", "15", 1.8)]),
    f("Serveringsbakke", "BAK", 349, COLOURS, &[("lille", "S", 1.0), ("stor", "L", 1.5)]),
    f("Bordløber", "BRL", 229, COLOURS, &[("140 cm", "140", 1.0), ("200 cm", "200", 1.3)]),
    f("Strikhue", "HUE", 249, COLOURS, &[("S", "S", 1.0), ("M", "M", 1.0), ("L", "L", 1.0)]),
    f("T-shirt", "TSH", 199, COLOURS, &[("S", "S", 1.0), ("M", "M", 1.0), ("L", "L", 1.0), ("XL", "XL", 1.0)]),
    f("Sokker", "SOK", 79, COLOURS, &[("36-40", "3640", 1.0), ("41-45", "4145", 1.0)]),
    f("Notesbog", "NOT", 99, COLOURS, &[("A5", "A5", 1.0), ("A4", "A4", 1.4)]),
    f("Plakat", "PLK", 199, COLOURS, &[("30x40", "3040", 1.0), ("50x70", "5070", 1.7), ("70x100", "70100", 2.6)]),
    f("Honning", "HON", 65, FLAVOURS, &[("250 g", "250", 1.0), ("450 g", "450", 1.6)]),
    f("Chokolade", "CHO", 45, FLAVOURS, &[("100 g", "100", 1.0), ("250 g", "250", 2.2)]),
    f("Skærebræt", "SKB", 279, COLOURS, &[("lille", "S", 1.0), ("stort", "L", 1.5)]),
];

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Mette",
    "Anne",
    "Kirsten",
    "Hanne",
    "Susanne",
    "Lene",
    "Maria",
    "Camilla",
    "Sofie",
    "Ida",
    "Emma",
    "Freja",
    "Louise",
    "Julie",
    "Karen",
    "Birgitte",
    "Lars",
    "Jens",
    "Peter",
    "Michael",
    "Henrik",
    "Søren",
    "Thomas",
    "Morten",
    "Rasmus",
    "Jesper",
    "Anders",
    "Niels",
    "Mads",
    "Frederik",
    "Mikkel",
    "Emil",
    "Oliver",
    "Jonas",
    "Magnus",
    "Christian",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Nielsen",
    "Jensen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Christiansen",
    "Poulsen",
    "Johansen",
    "Møller",
    "Mortensen",
    "Knudsen",
    "Jakobsen",
    "Lauridsen",
    "Holm",
    "Dahl",
    "Bach",
    "Kjær",
    "Lund",
];

pub(crate) const STREETS: &[&str] = &[
    "Vestergade",
    "Østergade",
    "Nørregade",
    "Søndergade",
    "Algade",
    "Storegade",
    "Kirkevej",
    "Skolevej",
    "Bakkevej",
    "Engvej",
    "Skovvej",
    "Strandvejen",
    "Møllevej",
    "Birkevej",
    "Egevej",
    "Lindevej",
    "Rosenvænget",
    "Havnegade",
];

pub(crate) const CITIES: &[(&str, &str)] = &[
    ("1050", "København K"),
    ("2100", "København Ø"),
    ("2200", "København N"),
    ("2300", "København S"),
    ("2500", "Valby"),
    ("2800", "Kongens Lyngby"),
    ("3000", "Helsingør"),
    ("4000", "Roskilde"),
    ("4700", "Næstved"),
    ("5000", "Odense C"),
    ("5700", "Svendborg"),
    ("6000", "Kolding"),
    ("6700", "Esbjerg"),
    ("7100", "Vejle"),
    ("7400", "Herning"),
    ("8000", "Aarhus C"),
    ("8600", "Silkeborg"),
    ("8900", "Randers C"),
    ("9000", "Aalborg"),
    ("9800", "Hjørring"),
];

pub(crate) const MAIL_HOSTS: &[&str] = &["gmail.com", "hotmail.com", "outlook.dk", "live.dk", "mail.dk", "jubii.dk"];

pub(crate) const COMPANY_SUFFIXES: &[&str] = &["Tømrer ApS", "Rådgivning", "Consult ApS", "Frisør", "VVS ApS"];

/// Shipping methods: id (WooCommerce `method_id`), title, price incl. VAT in øre.
pub(crate) const SHIPPING: &[(&str, &str, i64)] = &[
    ("gls_pakkeshop", "GLS Pakkeshop", 4900),
    ("postnord_privat", "PostNord Privatpakke", 5900),
    ("dao_pakkeshop", "DAO Pakkeshop", 4500),
    ("local_pickup", "Afhentning i butikken", 0),
];

/// Discount codes and their percentage.
pub(crate) const COUPONS: &[(&str, u32)] = &[("velkommen10", 10), ("sommer15", 15), ("blackfriday20", 20)];

/// Fees: name, amount incl. VAT in øre.
pub(crate) const FEES: &[(&str, i64)] = &[("Gaveindpakning", 2900), ("Fakturagebyr", 2500)];

/// Payment methods: WooCommerce id, title, Shopify gateway.
pub(crate) const PAYMENTS: &[(&str, &str, &str)] = &[
    ("quickpay", "Betalingskort", "QuickPay"),
    ("mobilepay", "MobilePay", "MobilePay"),
    ("bacs", "Bankoverførsel", "manual"),
];

/// Replaces the Danish letters a domain cannot hold.
pub(crate) fn ascii_fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            'æ' | 'Æ' => out.push_str("ae"),
            'ø' | 'Ø' => out.push_str("oe"),
            'å' | 'Å' => out.push_str("aa"),
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn companies_and_domains_are_unique() {
        let names: HashSet<_> = COMPANIES.iter().map(|c| c.name).collect();
        let stems: HashSet<_> = COMPANIES.iter().map(|c| c.stem).collect();
        assert_eq!(names.len(), COMPANIES.len());
        assert_eq!(stems.len(), COMPANIES.len());
        assert!(COMPANIES.iter().all(|c| c.stem.chars().all(|ch| ch.is_ascii_lowercase())));
    }

    #[test]
    fn folding_danish_letters() {
        assert_eq!(ascii_fold("Søren Æblø"), "soerenaebloe");
        assert_eq!(ascii_fold("Mads-Åge"), "madsaage");
    }
}
