//! Calendar arithmetic in an explicit time zone: months, local days and their UTC bounds.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The default time zone of shops and users.
pub const DEFAULT_TZ: Tz = chrono_tz::Europe::Copenhagen;

/// A calendar month, the unit of the usage ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(date: NaiveDate) -> Month {
        Month { year: date.year(), month: date.month() }
    }

    pub fn containing(instant: DateTime<Utc>, tz: Tz) -> Month {
        Month::of(instant.with_timezone(&tz).date_naive())
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month { year: self.year + 1, month: 1 }
        } else {
            Month { year: self.year, month: self.month + 1 }
        }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month { year: self.year - 1, month: 12 }
        } else {
            Month { year: self.year, month: self.month - 1 }
        }
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day() - Duration::days(1)
    }

    pub fn days(self) -> u32 {
        self.last_day().day()
    }

    /// `2026-12`, the key used in the store.
    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    pub fn parse_key(text: &str) -> Option<Month> {
        let (y, m) = text.split_once('-')?;
        let month = Month { year: y.parse().ok()?, month: m.parse().ok()? };
        (1..=12).contains(&month.month).then_some(month)
    }

    /// The `n` months ending with this one, oldest first.
    pub fn trailing(self, n: usize) -> Vec<Month> {
        let mut months = Vec::with_capacity(n);
        let mut m = self;
        for _ in 0..n {
            months.push(m);
            m = m.prev();
        }
        months.reverse();
        months
    }

    /// Short Danish month name, for charts.
    pub fn short_name_da(self) -> &'static str {
        const NAMES: [&str; 12] = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"];
        NAMES[(self.month.clamp(1, 12) - 1) as usize]
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// The first instant of a local day, in UTC. Handles DST gaps (a day never starts in a gap
/// in Europe, but other zones exist).
pub fn start_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = NaiveDateTime::from(date);
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
        LocalResult::None => {
            // Midnight skipped by a DST jump: the day starts an hour later.
            let later = midnight + Duration::hours(1);
            tz.from_local_datetime(&later)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
        }
    }
}

/// Local date of an instant.
pub fn local_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// A half-open UTC interval `[start, end)`, what the connectors query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcRange {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl UtcRange {
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// An inclusive range of local calendar days, as a user picks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("'{text}' is not a date: {reason}. Write it as YYYY-MM-DD, e.g. 2024-02-29")]
    Invalid { text: String, reason: String },
    #[error("the range starts {from} but ends {to}, before it starts: swap the dates")]
    FromAfterTo { from: NaiveDate, to: NaiveDate },
}

impl DateRange {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<DateRange, DateError> {
        if from > to {
            return Err(DateError::FromAfterTo { from, to });
        }
        Ok(DateRange { from, to })
    }

    /// The UTC bounds of the local days `[from 00:00, to+1 00:00)`.
    pub fn to_utc(self, tz: Tz) -> UtcRange {
        UtcRange { start: start_of_day(self.from, tz), end: start_of_day(self.to + Duration::days(1), tz) }
    }

    pub fn days(self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// Parses `YYYY-MM-DD`, saying exactly what is wrong (`2024-02-30`: February 2024 has 29 days).
pub fn parse_date(text: &str) -> Result<NaiveDate, DateError> {
    let trimmed = text.trim();
    let invalid = |reason: String| DateError::Invalid { text: trimmed.to_string(), reason };
    let parts: Vec<&str> = trimmed.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(invalid("expected three parts, year-month-day".into()));
    };
    let all_digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if y.len() != 4 || !all_digits(y) || !all_digits(m) || !all_digits(d) || m.len() > 2 || d.len() > 2 {
        return Err(invalid("expected digits as YYYY-MM-DD".into()));
    }
    let (year, month, day): (i32, u32, u32) = (
        y.parse().map_err(|_| invalid("bad year".into()))?,
        m.parse().map_err(|_| invalid("bad month".into()))?,
        d.parse().map_err(|_| invalid("bad day".into()))?,
    );
    if !(1..=12).contains(&month) {
        return Err(invalid(format!("there is no month {month}")));
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        let days = Month { year, month }.days();
        let name = NaiveDate::from_ymd_opt(year, month, 1).map(|d| d.format("%B %Y").to_string()).unwrap_or_default();
        invalid(format!("{name} has {days} days"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn rejects_impossible_dates_with_the_reason() {
        let err = parse_date("2024-02-30").unwrap_err().to_string();
        assert!(err.contains("February 2024 has 29 days"), "{err}");
        assert!(parse_date("2023-13-01").unwrap_err().to_string().contains("no month 13"));
        assert!(parse_date("yesterday").is_err());
        assert_eq!(parse_date(" 2024-02-29 ").unwrap(), d(2024, 2, 29));
    }

    #[test]
    fn from_after_to_is_refused() {
        let err = DateRange::new(d(2024, 3, 2), d(2024, 3, 1)).unwrap_err();
        assert!(err.to_string().contains("swap"));
    }

    #[test]
    fn local_days_map_to_utc_across_dst() {
        // Copenhagen is UTC+1 in winter, UTC+2 in summer.
        let r = DateRange::new(d(2025, 3, 30), d(2025, 3, 30)).unwrap().to_utc(DEFAULT_TZ);
        assert_eq!(r.start.to_rfc3339(), "2025-03-29T23:00:00+00:00");
        assert_eq!(r.end.to_rfc3339(), "2025-03-30T22:00:00+00:00");
    }

    #[test]
    fn months() {
        let feb = Month { year: 2024, month: 2 };
        assert_eq!(feb.days(), 29);
        assert_eq!(Month { year: 2024, month: 12 }.next(), Month { year: 2025, month: 1 });
        assert_eq!(feb.trailing(3)[0], Month { year: 2023, month: 12 });
        assert_eq!(Month::parse_key("2026-12"), Some(Month { year: 2026, month: 12 }));
        assert_eq!(Month::parse_key("2026-13"), None);
    }
}
