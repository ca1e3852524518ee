//! Each organization's business hours (SPEC §14), one row per organization: the weekly
//! periods and the holidays as JSON, written only from parsed values and checked again on the
//! way out (a value the code cannot read is corrupt data, never guessed).

use chrono::NaiveDate;
use serde_json::{json, Map, Value};
use sqlx::Row as _;
use wasl_domain::calendar::{BusinessHours, Period, Weekday};
use wasl_domain::OrgId;

use crate::{Store, StoreError};

pub struct Calendars<'a> {
    store: &'a Store,
}

impl Store {
    pub fn calendars(&self) -> Calendars<'_> {
        Calendars { store: self }
    }
}

impl Calendars<'_> {
    /// The organization's business hours; empty (no periods, no holidays) until set.
    pub async fn business_hours(&self, org: &OrgId) -> Result<BusinessHours, StoreError> {
        let row =
            sqlx::query("SELECT weekly, holidays FROM business_hours WHERE organization_id = $1")
                .bind(org.as_str())
                .fetch_optional(&self.store.pool)
                .await?;
        match row {
            None => Ok(BusinessHours::default()),
            Some(row) => decode(&row.try_get::<String, _>(0)?, &row.try_get::<String, _>(1)?),
        }
    }

    /// Replaces the organization's business hours.
    pub async fn set_business_hours(
        &self,
        org: &OrgId,
        hours: &BusinessHours,
        at: i64,
    ) -> Result<(), StoreError> {
        let (weekly, holidays) = encode(hours);
        sqlx::query(
            "INSERT INTO business_hours (organization_id, weekly, holidays, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (organization_id) DO UPDATE
             SET weekly = excluded.weekly, holidays = excluded.holidays,
                 updated_at = excluded.updated_at",
        )
        .bind(org.as_str())
        .bind(weekly)
        .bind(holidays)
        .bind(at)
        .execute(&self.store.pool)
        .await?;
        Ok(())
    }
}

fn encode(hours: &BusinessHours) -> (String, String) {
    let mut weekly = Map::new();
    for day in Weekday::ALL {
        let periods: Vec<Value> = hours
            .periods(day)
            .iter()
            .map(|p| json!({"start": p.start.to_string(), "end": p.end.to_string()}))
            .collect();
        weekly.insert(day.as_str().to_owned(), Value::Array(periods));
    }
    let holidays: Vec<String> = hours
        .holidays
        .iter()
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect();
    (
        Value::Object(weekly).to_string(),
        Value::from(holidays).to_string(),
    )
}

fn decode(weekly: &str, holidays: &str) -> Result<BusinessHours, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("business hours: {what}"));
    let weekly: Value = serde_json::from_str(weekly).map_err(|_| corrupt("weekly"))?;
    let holidays: Vec<String> = serde_json::from_str(holidays).map_err(|_| corrupt("holidays"))?;
    let mut hours = BusinessHours::default();
    for day in Weekday::ALL {
        let periods = weekly
            .get(day.as_str())
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|p| {
                        let start = p["start"].as_str().unwrap_or_default();
                        let end = p["end"].as_str().unwrap_or_default();
                        Period::parse("weekly", start, end).map_err(|_| corrupt("period"))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        hours.set_periods(day, periods);
    }
    for day in holidays {
        let date = NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|_| corrupt("holiday"))?;
        hours.holidays.insert(date);
    }
    Ok(hours)
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};
    use wasl_domain::calendar::{BusinessHours, Period, Weekday};

    #[test]
    fn business_hours_read_back_as_written() {
        let mut hours = BusinessHours::default();
        hours.set_periods(
            Weekday::Sunday,
            vec![
                Period::parse("p", "09:00", "13:00").expect("period"),
                Period::parse("p", "22:00", "02:00").expect("period"),
            ],
        );
        hours
            .holidays
            .insert(chrono::NaiveDate::from_ymd_opt(2027, 3, 30).expect("date"));
        let (weekly, holidays) = encode(&hours);
        assert_eq!(decode(&weekly, &holidays).expect("decoded"), hours);
        assert!(decode(
            "{\"sunday\":[{\"start\":\"25:00\",\"end\":\"02:00\"}]}",
            "[]"
        )
        .is_err());
        assert!(decode("{}", "[\"2027-02-30\"]").is_err());
    }
}
