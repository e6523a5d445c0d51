//! e-conomic's `filter=` query language, as far as the simulator needs it: predicates
//! `property$op:value` joined by `$and:` / `$or:`, parentheses, `$null:`, and the `$` escapes.

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Predicate { property: String, op: Op, value: Option<Pattern> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
}

/// A filter value: literal characters and the unescaped `*` wildcards of `$like:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(Vec<Piece>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Char(char),
    Wildcard,
}

impl Pattern {
    fn literal(&self) -> String {
        self.0.iter().map(|p| if let Piece::Char(c) = p { *c } else { '*' }).collect()
    }
}

impl Filter {
    /// Whether a resource matches. `lookup` gives a property's value as text (`None` for null).
    pub fn matches(&self, lookup: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Filter::And(parts) => parts.iter().all(|p| p.matches(lookup)),
            Filter::Or(parts) => parts.iter().any(|p| p.matches(lookup)),
            Filter::Predicate { property, op, value } => compare(lookup(property).as_deref(), *op, value.as_ref()),
        }
    }

    /// Every property the filter names, to refuse the ones a collection cannot filter on.
    pub fn properties(&self) -> Vec<&str> {
        match self {
            Filter::And(parts) | Filter::Or(parts) => parts.iter().flat_map(Filter::properties).collect(),
            Filter::Predicate { property, .. } => vec![property.as_str()],
        }
    }
}

fn compare(actual: Option<&str>, op: Op, wanted: Option<&Pattern>) -> bool {
    let (actual, wanted) = match (actual, wanted) {
        (None, None) => return matches!(op, Op::Eq | Op::Like),
        (Some(_), None) | (None, Some(_)) => return op == Op::Ne,
        (Some(a), Some(w)) => (a, w),
    };
    // Strings compare case-insensitively, as e-conomic documents.
    let a = actual.to_lowercase();
    let w = wanted.literal().to_lowercase();
    // Ordering compares numbers as numbers; equality stays textual (`0123` is not `123`).
    let ordering = match (a.parse::<f64>(), w.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y),
        _ => Some(a.cmp(&w)),
    };
    match op {
        Op::Eq => a == w,
        Op::Ne => a != w,
        Op::Gt => ordering == Some(std::cmp::Ordering::Greater),
        Op::Gte => matches!(ordering, Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)),
        Op::Lt => ordering == Some(std::cmp::Ordering::Less),
        Op::Lte => matches!(ordering, Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)),
        Op::Like => like(&a, wanted),
    }
}

/// Without wildcards `$like:` means "contains"; with them, a glob.
fn like(actual: &str, pattern: &Pattern) -> bool {
    let pieces: Vec<Piece> = pattern
        .0
        .iter()
        .map(|p| match p {
            Piece::Char(c) => Piece::Char(c.to_lowercase().next().unwrap_or(*c)),
            Piece::Wildcard => Piece::Wildcard,
        })
        .collect();
    if !pieces.contains(&Piece::Wildcard) {
        return actual.contains(&pattern.literal().to_lowercase());
    }
    glob(&actual.chars().collect::<Vec<_>>(), &pieces)
}

fn glob(text: &[char], pattern: &[Piece]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((Piece::Wildcard, rest)) => (0..=text.len()).any(|skip| glob(&text[skip..], rest)),
        Some((Piece::Char(c), rest)) => text.first() == Some(c) && glob(&text[1..], rest),
    }
}

/// Parses a filter, or says what is wrong with it (for a 400).
pub fn parse(text: &str) -> Result<Filter, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut parser = Parser { chars: &chars, at: 0 };
    let filter = parser.or_expr()?;
    if parser.at < chars.len() {
        return Err(format!("unexpected '{}' at position {} of the filter", chars[parser.at], parser.at));
    }
    Ok(filter)
}

struct Parser<'a> {
    chars: &'a [char],
    at: usize,
}

impl Parser<'_> {
    fn rest_starts_with(&self, s: &str) -> bool {
        let want: Vec<char> = s.chars().collect();
        self.chars.get(self.at..self.at + want.len()) == Some(&want[..])
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest_starts_with(s) {
            self.at += s.chars().count();
            true
        } else {
            false
        }
    }

    fn or_expr(&mut self) -> Result<Filter, String> {
        let mut parts = vec![self.and_expr()?];
        while self.eat("$or:") {
            parts.push(self.and_expr()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Filter::Or(parts) })
    }

    fn and_expr(&mut self) -> Result<Filter, String> {
        let mut parts = vec![self.term()?];
        while self.eat("$and:") {
            parts.push(self.term()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Filter::And(parts) })
    }

    fn term(&mut self) -> Result<Filter, String> {
        if self.eat("(") {
            let inner = self.or_expr()?;
            if !self.eat(")") {
                return Err("a '(' in the filter is never closed".into());
            }
            return Ok(inner);
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Filter, String> {
        let start = self.at;
        while self.at < self.chars.len() && self.chars[self.at] != '$' {
            self.at += 1;
        }
        let property: String = self.chars[start..self.at].iter().collect();
        if property.is_empty() {
            return Err(format!("a filter predicate needs a property name at position {start}"));
        }
        let op = [
            ("$eq:", Op::Eq),
            ("$ne:", Op::Ne),
            ("$gte:", Op::Gte),
            ("$gt:", Op::Gt),
            ("$lte:", Op::Lte),
            ("$lt:", Op::Lt),
            ("$like:", Op::Like),
        ]
        .into_iter()
        .find(|(token, _)| self.eat(token))
        .map(|(_, op)| op);
        let Some(op) = op else {
            if self.rest_starts_with("$in:") || self.rest_starts_with("$nin:") {
                return Err("the simulator does not support $in: / $nin:".into());
            }
            return Err(format!("the filter on {property} has no known operator ($eq:, $like:, …)"));
        };
        if self.eat("$null:") {
            return Ok(Filter::Predicate { property, op, value: None });
        }
        Ok(Filter::Predicate { property, op, value: Some(self.value()) })
    }

    fn value(&mut self) -> Pattern {
        let mut pieces = Vec::new();
        while self.at < self.chars.len() {
            let c = self.chars[self.at];
            if c == '$' {
                match self.chars.get(self.at + 1) {
                    Some(&e @ ('$' | '(' | ')' | '*' | ',' | '[' | ']')) => {
                        pieces.push(Piece::Char(e));
                        self.at += 2;
                        continue;
                    }
                    _ => break, // `$and:`, `$or:`: the value ends.
                }
            }
            if c == ')' {
                break;
            }
            pieces.push(if c == '*' { Piece::Wildcard } else { Piece::Char(c) });
            self.at += 1;
        }
        Pattern(pieces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::economic_wire::filter_eq;

    fn record<'a>(fields: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |p| fields.iter().find(|(k, _)| *k == p).map(|(_, v)| v.to_string())
    }

    #[test]
    fn eq_is_case_insensitive_and_escapes_read_back() {
        let r = [("email", "Mette@Example.dk"), ("references.other", "#1001 (x), [y] $5*")];
        assert!(parse("email$eq:mette@example.dk").unwrap().matches(&record(&r)));
        assert!(!parse("email$eq:other@example.dk").unwrap().matches(&record(&r)));
        let f = parse(&filter_eq("references.other", "#1001 (x), [y] $5*")).unwrap();
        assert!(f.matches(&record(&r)), "{f:?}");
    }

    #[test]
    fn and_or_parentheses_like_and_null() {
        let r = [("name", "Joe"), ("city", "Newport"), ("age", "50")];
        assert!(parse("name$eq:Joe$and:city$like:*port").unwrap().matches(&record(&r)));
        assert!(parse("name$eq:Joe$and:(city$like:*ham$or:age$gt:40)").unwrap().matches(&record(&r)));
        assert!(!parse("name$eq:Joe$and:(city$like:*ham$or:age$lt:40)").unwrap().matches(&record(&r)));
        assert!(parse("city$like:wpo").unwrap().matches(&record(&r)), "like without wildcard is contains");
        assert!(parse("email$eq:$null:").unwrap().matches(&record(&r)));
        assert!(!parse("name$eq:$null:").unwrap().matches(&record(&r)));
    }

    #[test]
    fn bad_filters_say_why() {
        assert!(parse("name").unwrap_err().contains("no known operator"));
        assert!(parse("(name$eq:x").unwrap_err().contains("never closed"));
        assert!(parse("customerNumber$in:[1,2]").unwrap_err().contains("$in:"));
        assert_eq!(parse("a$eq:1$and:b$eq:2").unwrap().properties(), ["a", "b"]);
    }
}
