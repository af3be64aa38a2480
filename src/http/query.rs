//! Query strings: decoded pairs with Fynn's `key[]` repetition and `order[field]` sorting.

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: &str) -> Query {
        Query {
            pairs: form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// The last value given for `key` (a repeated plain key: the last one wins).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key` and `key[]`, for multi-value filters.
    pub fn all(&self, key: &str) -> Vec<&str> {
        let bracketed = format!("{key}[]");
        self.pairs
            .iter()
            .filter(|(k, _)| k == key || *k == bracketed)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A boolean flag: `true`/`1` or `false`/`0`; anything else is a 400.
    pub fn flag(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some("true") | Some("1") => Ok(Some(true)),
            Some("false") | Some("0") => Ok(Some(false)),
            Some(other) => Err(ApiError::BadRequest(format!(
                "Query parameter '{key}' must be true or false, got '{other}'."
            ))),
        }
    }

    /// `order[field]=asc|desc` pairs in the order given, checked against the sortable fields.
    pub fn order(&self, sortable: &[&str]) -> ApiResult<Vec<(String, bool)>> {
        let mut out = Vec::new();
        for (k, v) in &self.pairs {
            let Some(field) = k.strip_prefix("order[").and_then(|r| r.strip_suffix(']')) else {
                continue;
            };
            if !sortable.contains(&field) {
                return Err(ApiError::BadRequest(format!(
                    "Cannot sort by '{field}'; sortable fields: {}.",
                    sortable.join(", ")
                )));
            }
            let ascending = match v.to_ascii_lowercase().as_str() {
                "asc" => true,
                "desc" => false,
                _ => {
                    return Err(ApiError::BadRequest(format!(
                        "order[{field}] must be asc or desc, got '{v}'."
                    )))
                }
            };
            out.push((field.to_string(), ascending));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_bracketed_keys() {
        let q = Query::parse("status[]=a&status[]=b&name=J%C3%BCrgen+X&order[createdAt]=desc");
        assert_eq!(q.all("status"), vec!["a", "b"]);
        assert_eq!(q.get("name"), Some("Jürgen X"));
        assert_eq!(
            q.order(&["createdAt"]).unwrap(),
            vec![("createdAt".to_string(), false)]
        );
        assert!(q.order(&["name"]).is_err());
    }
}
