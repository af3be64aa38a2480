//! `Shown<T>`: a part of the customer's read shape that the shape shows more than once,
//! serialized once.

use serde::ser::Error as _;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

/// An address or e-mail address of a customer. The read shape repeats the defaults beside the
/// full lists (`addresses`, `defaultAddress` and `defaultInvoiceAddress` are often one
/// address three times), so the copies share one value, and its JSON is written at the first
/// serialization and copied for the others. Writing every copy anew, and cloning it for each,
/// was about a tenth of a `GET /customers/{id}`.
#[derive(Debug)]
pub struct Shown<T>(Arc<Inner<T>>);

#[derive(Debug)]
struct Inner<T> {
    value: T,
    json: OnceLock<Box<RawValue>>,
}

impl<T> Shown<T> {
    pub fn new(value: T) -> Shown<T> {
        Shown(Arc::new(Inner {
            value,
            json: OnceLock::new(),
        }))
    }
}

/// A copy is the same value, not a clone of it.
impl<T> Clone for Shown<T> {
    fn clone(&self) -> Shown<T> {
        Shown(Arc::clone(&self.0))
    }
}

impl<T> Deref for Shown<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0.value
    }
}

impl<T: PartialEq> PartialEq for Shown<T> {
    fn eq(&self, other: &Shown<T>) -> bool {
        self.0.value == other.0.value
    }
}

impl<T: Serialize> Serialize for Shown<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let json = match self.0.json.get() {
            Some(json) => json,
            None => {
                let json =
                    serde_json::value::to_raw_value(&self.0.value).map_err(S::Error::custom)?;
                self.0.json.get_or_init(|| json)
            }
        };
        json.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq, Serialize)]
    struct Part {
        id: &'static str,
        amount: serde_json::Number,
    }

    fn part() -> Part {
        Part {
            id: "a \"quoted\" id",
            amount: "10.50".parse().unwrap(),
        }
    }

    #[test]
    fn copies_serialize_as_the_value_would() {
        let shown = Shown::new(part());
        // Into a `Value` too (the raw JSON is parsed back), exact number text included.
        let shape = json!({"all": [shown.clone()], "default": shown.clone()});
        let direct = serde_json::to_value(part()).unwrap();
        assert_eq!(shape, json!({"all": [direct], "default": direct}));
        assert_eq!(shape["default"]["amount"].to_string(), "10.50");
        let text = serde_json::to_string(&(shown.clone(), shown)).unwrap();
        assert_eq!(
            text,
            r#"[{"id":"a \"quoted\" id","amount":10.50},{"id":"a \"quoted\" id","amount":10.50}]"#
        );
    }
}
