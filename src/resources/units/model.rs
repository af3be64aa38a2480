//! Unit shapes (reference 10 §1): the read model, the translations body and its checks, and the
//! `Locale` fallback (requested -> its language -> tenant locale) every catalogue read uses.

use crate::error::ApiResult;
use crate::http::input::{Field, Input};
use serde::Serialize;
use std::collections::BTreeMap;

/// Locale -> name. A `BTreeMap` so that the last-resort fallback (first entry) is deterministic.
pub type Translations = BTreeMap<String, String>;

/// A unit as the API shows it: `name` is the translation for the request's locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub translations: Translations,
    pub created_at: String,
    pub updated_at: String,
}

/// The `{id, name}` embed of a unit inside measurements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitRef {
    pub id: String,
    pub name: String,
}

/// Which translation a catalogue read answers with (reference README §12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale {
    /// The `locale` query parameter, if the client sent one.
    pub requested: Option<String>,
    /// The tenant's `organization.locale`.
    pub tenant: String,
}

impl Locale {
    pub fn new(requested: Option<&str>, tenant: &str) -> Locale {
        Locale {
            requested: requested.map(str::to_string),
            tenant: tenant.to_string(),
        }
    }

    /// The same tenant without the client's choice: payloads stored for later (outbox events)
    /// must not depend on which locale the writing client happened to ask for.
    pub fn tenant_only(&self) -> Locale {
        Locale::new(None, &self.tenant)
    }

    /// The requested locale, then its language (`en-GB` -> `en`), then the tenant locale, then
    /// any translation (a tenant may switch its locale after creating units).
    pub fn pick(&self, translations: &Translations) -> String {
        let mut candidates: Vec<&str> = Vec::with_capacity(3);
        if let Some(requested) = self.requested.as_deref() {
            candidates.push(requested);
            if let Some((language, _)) = requested.split_once('-') {
                candidates.push(language);
            }
        }
        candidates.push(&self.tenant);
        candidates
            .iter()
            .find_map(|c| translations.get(*c))
            .or_else(|| translations.values().next())
            .cloned()
            .unwrap_or_default()
    }
}

/// A locale code: a 2–3 letter lowercase language, optionally `-` and a 2-letter region
/// (`de`, `en`, `en-GB`).
pub fn is_locale(s: &str) -> bool {
    let (language, region) = match s.split_once('-') {
        Some((l, r)) => (l, Some(r)),
        None => (s, None),
    };
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
}

/// Keys of the read model a client may send back unchanged; they are ignored on write.
const READ_ONLY: &[&str] = &["id", "name", "createdAt", "updatedAt"];

/// The body of `POST /units` and `PUT /units/{id}`: the translations, checked all at once.
/// They must include `tenant_locale`, so every unit has a name in the tenant's own language.
pub fn translations_from_input(mut input: Input, tenant_locale: &str) -> ApiResult<Translations> {
    let mut allowed = vec!["translations"];
    allowed.extend_from_slice(READ_ONLY);
    input.reject_unknown(&allowed);
    let mut out = Translations::new();
    match input.object("translations") {
        Field::Value(map) => {
            for (locale, value) in map {
                let key = format!("translations.{locale}");
                if !is_locale(&locale) {
                    input.violation(
                        &key,
                        "This key is not a valid locale (e.g. de, en, en-GB).",
                        "invalid_locale",
                    );
                    continue;
                }
                match value.as_str() {
                    Some(name) if name.trim().is_empty() => {
                        input.violation(&key, "This value should not be blank.", "not_blank")
                    }
                    Some(name) => {
                        if input.check_len(&key, name, 1, 255) {
                            out.insert(locale, name.to_string());
                        }
                    }
                    None => input.violation(
                        &key,
                        "This value should be of type string.",
                        "invalid_type",
                    ),
                }
            }
            // A tenant-locale entry that was sent but invalid is already reported on its key.
            if !map_has(&input, tenant_locale) {
                input.violation(
                    "translations",
                    &format!("A name for the tenant locale '{tenant_locale}' is required."),
                    "missing_locale",
                );
            }
        }
        Field::Null => {
            input.violation("translations", "This value should not be null.", "not_null")
        }
        Field::Absent if input.has("translations") => {}
        Field::Absent => input.violation("translations", "This field is missing.", "missing_field"),
    }
    input.finish()?;
    Ok(out)
}

/// Whether the body's `translations` object has the key at all (valid or not).
fn map_has(input: &Input, locale: &str) -> bool {
    input
        .raw("translations")
        .and_then(|v| v.as_object())
        .is_some_and(|m| m.contains_key(locale))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn t(pairs: &[(&str, &str)]) -> Translations {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn locale_fallback() {
        let tr = t(&[("de", "Stück"), ("en", "Piece")]);
        assert_eq!(Locale::new(Some("en"), "de").pick(&tr), "Piece");
        assert_eq!(Locale::new(Some("en-GB"), "de").pick(&tr), "Piece");
        assert_eq!(Locale::new(Some("fr"), "de").pick(&tr), "Stück");
        assert_eq!(Locale::new(None, "en").pick(&tr), "Piece");
        assert_eq!(Locale::new(Some("fr"), "it").pick(&tr), "Stück");
        assert_eq!(Locale::new(None, "de").pick(&Translations::new()), "");
    }

    #[test]
    fn locale_codes() {
        for ok in ["de", "en", "en-GB", "gsw"] {
            assert!(is_locale(ok), "{ok}");
        }
        for bad in ["", "D", "DE", "de-", "de-gb", "en_GB", "deutsch", "d1"] {
            assert!(!is_locale(bad), "{bad}");
        }
    }

    #[test]
    fn every_bad_translation_is_named() {
        let input =
            Input::parse(br#"{"translations":{"en":"","xx-1":"a","fr":5,"it":"Pezzo"},"extra":1}"#)
                .unwrap();
        let Err(ApiError::Validation(v)) = translations_from_input(input, "de") else {
            panic!("expected 422")
        };
        let paths: Vec<_> = v.iter().map(|v| v.property_path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "extra",
                "translations.en",
                "translations.fr",
                "translations.xx-1",
                "translations"
            ]
        );
    }

    #[test]
    fn read_only_keys_are_tolerated() {
        let input = Input::parse(
            r#"{"id":"x","name":"Stück","translations":{"de":"Stück","en":"Piece"}}"#.as_bytes(),
        )
        .unwrap();
        let tr = translations_from_input(input, "de").unwrap();
        assert_eq!(tr, t(&[("de", "Stück"), ("en", "Piece")]));
    }
}
