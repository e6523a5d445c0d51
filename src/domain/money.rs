//! Money: exact decimals in DKK, shown the Danish way (`DKK 1.234,50`).

use rust_decimal::{Decimal, RoundingStrategy};

/// Danish VAT (moms), 25 %.
pub const DANISH_VAT_RATE: Decimal = Decimal::from_parts(25, 0, 0, false, 2);

/// Rounds to øre (two decimals, always written: `600.00`), half away from zero as Danish
/// invoices do.
pub fn round_ore(amount: Decimal) -> Decimal {
    let mut rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

/// `DKK 1.234,50`: thousands separated by `.`, decimals by `,`, always two decimals.
pub fn format_dkk(amount: Decimal) -> String {
    format!("DKK {}", format_danish_number(amount))
}

/// `1.234,50` (no currency).
pub fn format_danish_number(amount: Decimal) -> String {
    let rounded = round_ore(amount);
    let negative = rounded.is_sign_negative() && !rounded.is_zero();
    let text = format!("{:.2}", rounded.abs());
    let (whole, frac) = text.split_once('.').unwrap_or((text.as_str(), "00"));
    let grouped = group_thousands(whole, '.');
    format!("{}{grouped},{frac}", if negative { "-" } else { "" })
}

/// `50.000` — a count the Danish way.
pub fn format_count(n: u64) -> String {
    group_thousands(&n.to_string(), '.')
}

fn group_thousands(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn danish_format() {
        assert_eq!(format_dkk(dec!(1234.5)), "DKK 1.234,50");
        assert_eq!(format_dkk(dec!(600)), "DKK 600,00");
        assert_eq!(format_dkk(dec!(0)), "DKK 0,00");
        assert_eq!(format_dkk(dec!(1234567.891)), "DKK 1.234.567,89");
        assert_eq!(format_dkk(dec!(-75.125)), "DKK -75,13");
        assert_eq!(format_dkk(dec!(999.999)), "DKK 1.000,00");
        assert_eq!(format_count(50000), "50.000");
        assert_eq!(format_count(7), "7");
        assert_eq!(format_count(1000000), "1.000.000");
    }

    #[test]
    fn amounts_keep_two_decimals() {
        assert_eq!(round_ore(dec!(600)).to_string(), "600.00");
        assert_eq!(round_ore(dec!(1.005)).to_string(), "1.01");
    }

    #[test]
    fn vat_rate_is_a_quarter() {
        assert_eq!(DANISH_VAT_RATE, dec!(0.25));
    }
}
