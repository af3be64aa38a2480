//! Typed, borrowing parse of measurement bodies (single value and batch) with serde visitors:
//! no `serde_json::Value` tree, no map per value, strings borrowed from the body where they
//! carry no escapes. Every field is read as whatever JSON type it is, so a wrong type is a
//! violation of that field (checked in `model::check`), never a parse error of the body.

use super::model::{check, Entry};
use crate::error::Violation;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// How serde_json (feature `arbitrary_precision`, which keeps numbers exact) hands a number to
/// `deserialize_any`: as a map with this single key and the number's text as its value.
/// `serde_json::Value` tells numbers from objects the same way; the tests below fail should
/// the name ever change.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// One field's JSON value, borrowed from the body where possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<'a> {
    Null,
    Str(Cow<'a, str>),
    /// A JSON number's exact text.
    Number(Cow<'a, str>),
    /// Anything else: a boolean, array or object.
    Other,
}

/// The fields of one value object; `None`: the key is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEntry<'a> {
    pub quantity: Option<Field<'a>>,
    pub measured_at: Option<Field<'a>>,
    pub subscription: Option<Field<'a>>,
    pub subscription_item: Option<Field<'a>>,
    pub measurement_code: Option<Field<'a>>,
    pub id: Option<Field<'a>>,
    /// Keys that are not allowed, in body order.
    pub unknown: Vec<Cow<'a, str>>,
}

/// The `values` of a batch body, each element checked as soon as it is read (`model::check`),
/// so no parsed-but-unchecked copy of the batch is ever held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values<'a> {
    /// How many elements the array had.
    pub count: usize,
    /// The elements that passed the checks.
    pub entries: Vec<Entry<'a>>,
    /// What is wrong with the others, in element order.
    pub violations: Vec<Violation>,
}

/// A batch body; `values: None`: absent or not an array.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawBatch<'a> {
    pub values: Option<Values<'a>>,
    pub unknown: Vec<Cow<'a, str>>,
}

/// A body that was well-formed JSON: the object it held, or `None` for another type.
pub fn body<'a, T: FromMap<'a>>(bytes: &'a [u8]) -> Result<Option<T>, serde_json::Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        // An empty body counts as `{}`.
        return Ok(Some(T::default()));
    }
    // One UTF-8 check of the whole body costs a fraction of what `from_slice` spends checking
    // each string on its own; a body that is not UTF-8 goes through `from_slice` for its error.
    match std::str::from_utf8(bytes) {
        Ok(text) => object(serde_json::Deserializer::from_str(text)),
        Err(_) => object(serde_json::Deserializer::from_slice(bytes)),
    }
}

fn object<'a, R: serde_json::de::Read<'a>, T: FromMap<'a>>(
    mut de: serde_json::Deserializer<R>,
) -> Result<Option<T>, serde_json::Error> {
    let parsed = (&mut de).deserialize_any(ObjectVisitor::<T>(std::marker::PhantomData))?;
    de.end()?;
    Ok(parsed)
}

/// A shape read from the entries of a JSON object, its first key already taken.
pub trait FromMap<'de>: Sized + Default {
    fn from_map<A: MapAccess<'de>>(first: Text<'de>, map: A) -> Result<Self, A::Error>;
}

/// A string (a key or value) borrowed from the body when it has no escapes.
pub struct Text<'a>(pub Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Reads the rest of a map the caller does not want.
fn drain<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// The `Visitor` methods of a visitor that answers `None` for every scalar (null, booleans,
/// strings, numbers): a value of the wrong type, which the caller reports as such.
macro_rules! scalars_are_none {
    () => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}

/// Any JSON value: an object becomes `Some(T)`, anything else `None` (skipped).
struct ObjectVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: FromMap<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(first) = map.next_key::<Text>()? else {
            return Ok(Some(T::default()));
        };
        if first.0 == NUMBER_TOKEN {
            map.next_value::<IgnoredAny>()?;
            drain(map)?;
            return Ok(None);
        }
        T::from_map(first, map).map(Some)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    scalars_are_none!();
}

impl<'de> de::Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Field::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Field::Null)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Field::Other)
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Field::Str(Cow::Owned(s)))
            }
            // Without `arbitrary_precision` numbers would come here; integers stay exact.
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(Field::Number(Cow::Owned(n.to_string())))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(Field::Number(Cow::Owned(n.to_string())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                match map.next_key::<Text>()? {
                    Some(key) if key.0 == NUMBER_TOKEN => {
                        let Text(text) = map.next_value()?;
                        drain(map)?;
                        Ok(Field::Number(text))
                    }
                    Some(_) => {
                        map.next_value::<IgnoredAny>()?;
                        drain(map)?;
                        Ok(Field::Other)
                    }
                    None => Ok(Field::Other),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> FromMap<'de> for RawEntry<'de> {
    fn from_map<A: MapAccess<'de>>(first: Text<'de>, mut map: A) -> Result<Self, A::Error> {
        let mut entry = RawEntry::default();
        let mut key = Some(first);
        while let Some(Text(name)) = key {
            // A repeated key keeps its last value, as `serde_json::Value` does.
            let slot = match name.as_ref() {
                "quantity" => &mut entry.quantity,
                "measuredAt" => &mut entry.measured_at,
                "subscription" => &mut entry.subscription,
                "subscriptionItem" => &mut entry.subscription_item,
                "measurementCode" => &mut entry.measurement_code,
                "id" => &mut entry.id,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    entry.unknown.push(name);
                    key = map.next_key()?;
                    continue;
                }
            };
            *slot = Some(map.next_value()?);
            key = map.next_key()?;
        }
        Ok(entry)
    }
}

/// The `values` array, checked element by element; `None` for another type.
struct ValuesSeed;

impl<'de> DeserializeSeed<'de> for ValuesSeed {
    type Value = Option<Values<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<Values<'de>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut values = Values::default();
                while let Some(element) = seq.next_element_seed(ElementSeed)? {
                    let index = values.count;
                    values.count += 1;
                    match element {
                        Some(raw) => {
                            if let Some(entry) = check(raw, Some(index), &mut values.violations) {
                                values.entries.push(entry);
                            }
                        }
                        None => values.violations.push(Violation::new(
                            format!("values[{index}]"),
                            "This value should be an object.",
                            "invalid_type",
                        )),
                    }
                }
                Ok(Some(values))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                drain(map)?;
                Ok(None)
            }
            scalars_are_none!();
        }
        d.deserialize_any(V)
    }
}

/// One element of `values`: an object's fields, or `None` for another type.
struct ElementSeed;

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Option<RawEntry<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ObjectVisitor::<RawEntry>(std::marker::PhantomData))
    }
}

impl<'de> FromMap<'de> for RawBatch<'de> {
    fn from_map<A: MapAccess<'de>>(first: Text<'de>, mut map: A) -> Result<Self, A::Error> {
        let mut batch = RawBatch::default();
        let mut key = Some(first);
        while let Some(Text(name)) = key {
            if name == "values" {
                batch.values = map.next_value_seed(ValuesSeed)?;
            } else {
                map.next_value::<IgnoredAny>()?;
                batch.unknown.push(name);
            }
            key = map.next_key()?;
        }
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_every_type_borrowed_where_possible() {
        let e: RawEntry = body(
            br#"{"quantity":1.50,"measuredAt":null,"subscription":true,"id":"a\"b",
                 "subscriptionItem":"i1","x":{"y":[1]},"measurementCode":[],"z":1}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.quantity, Some(Field::Number("1.50".into())));
        assert_eq!(e.measured_at, Some(Field::Null));
        assert_eq!(e.subscription, Some(Field::Other));
        assert_eq!(e.measurement_code, Some(Field::Other));
        assert_eq!(e.id, Some(Field::Str("a\"b".into())));
        assert!(matches!(
            e.subscription_item,
            Some(Field::Str(Cow::Borrowed("i1")))
        ));
        assert_eq!(e.unknown, vec!["x", "z"]);
    }

    #[test]
    fn numbers_and_other_types_are_not_objects() {
        for bad in [&b"5"[..], b"1.5", b"[1]", b"\"x\"", b"null", b"true"] {
            assert_eq!(body::<RawEntry>(bad).unwrap(), None);
        }
        assert_eq!(body::<RawEntry>(b" \n").unwrap(), Some(RawEntry::default()));
        assert_eq!(body::<RawEntry>(b"{}").unwrap(), Some(RawEntry::default()));
        assert!(body::<RawEntry>(b"{").is_err());
        assert!(body::<RawEntry>(b"{} x").is_err());
        // Not UTF-8: serde_json's own error, with its position.
        let e = body::<RawEntry>(b"{\"id\": \"a\xff\"}").unwrap_err();
        assert!(e.to_string().contains("invalid unicode"), "{e}");
        assert_eq!(e.column(), 10);
    }

    #[test]
    fn batch_elements_are_checked_as_they_are_read() {
        let b: RawBatch = body(
            br#"{"a":1,"values":[{"quantity":"2","subscriptionItem":"i"},7,"s",{},null],"b":[]}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(b.unknown, vec!["a", "b"]);
        let values = b.values.unwrap();
        assert_eq!(values.count, 5);
        assert_eq!(values.entries.len(), 1);
        assert_eq!(values.entries[0].index, Some(0));
        let paths: Vec<_> = values.violations.iter().map(|v| &v.property_path).collect();
        assert_eq!(
            paths,
            [
                "values[1]",
                "values[2]",
                "values[3].quantity",
                "values[3].subscriptionItem",
                "values[4]"
            ]
        );
        for other in [
            &br#"{"values":{}}"#[..],
            br#"{"values":3}"#,
            br#"{"values":null}"#,
        ] {
            assert_eq!(body::<RawBatch>(other).unwrap().unwrap().values, None);
        }
    }
}
