//! An ECS document checker read from `fields.csv`: every leaf of a document,
//! by its dotted path, must be an ECS field whose type accepts the value
//! (arrays of such values too), or lie under a field of type `object` or
//! `flattened`, or under the custom namespace, which must not be ECS's.

use regex_lite::Regex;
use serde_json::Value;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

pub struct Ecs {
    pub version: String,
    /// Field → its ECS type.
    fields: HashMap<String, String>,
    date: Regex,
}

/// The cells of one CSV record, with RFC 4180 quoting (`""` inside quotes).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => record.push(std::mem::take(&mut cell)),
            ('\n', false) => {
                record.push(std::mem::take(&mut cell));
                records.push(std::mem::take(&mut record));
            }
            ('\r', false) => {}
            (c, _) => cell.push(c),
        }
    }
    if !cell.is_empty() || !record.is_empty() {
        record.push(cell);
        records.push(record);
    }
    records
}

impl Ecs {
    pub fn load(csv: &Path) -> Self {
        let text = std::fs::read_to_string(csv)
            .unwrap_or_else(|e| panic!("reading {}: {e}", csv.display()));
        let mut records = csv_records(&text).into_iter();
        let header = records.next().expect("a header");
        let column = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("fields.csv has no {name} column"))
        };
        let (version, field, kind) = (column("ECS_Version"), column("Field"), column("Type"));
        let mut versions = Vec::new();
        let mut fields = HashMap::new();
        for record in records {
            versions.push(record[version].clone());
            fields.insert(record[field].clone(), record[kind].clone());
        }
        versions.dedup();
        assert_eq!(versions.len(), 1, "fields.csv names one ECS version");
        Ecs {
            version: versions.remove(0),
            fields,
            // ISO 8601 as Elasticsearch's default `date` format reads it.
            date: Regex::new(
                r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$",
            )
            .unwrap(),
        }
    }

    fn is_container(&self, path: &str) -> bool {
        self.fields
            .get(path)
            .is_some_and(|t| matches!(t.as_str(), "object" | "flattened" | "nested"))
    }

    /// Every way `document` breaks ECS, one line each; empty when it conforms.
    /// `custom` is the namespace for fields ECS does not define.
    pub fn check_document(&self, document: &Value, custom: &str) -> Vec<String> {
        let mut errors = Vec::new();
        let prefix = format!("{custom}.");
        if self
            .fields
            .keys()
            .any(|f| f == custom || f.starts_with(&prefix))
        {
            errors.push(format!(
                "{custom}: the custom namespace is an ECS field set"
            ));
        }
        let mut leaves = Vec::new();
        if document.is_object() {
            self.flatten("", document, &mut leaves);
        } else {
            errors.push("the document is not a JSON object".into());
        }
        for (path, value) in leaves {
            if path == custom || path.starts_with(&prefix) {
                continue;
            }
            let kind = match self.fields.get(&path) {
                Some(kind) => kind,
                None => {
                    let under_container = path
                        .match_indices('.')
                        .any(|(i, _)| self.is_container(&path[..i]));
                    if !under_container {
                        errors.push(format!("{path}: not an ECS field"));
                    }
                    continue;
                }
            };
            let values = match value {
                Value::Array(items) => items.iter().collect(),
                one => vec![one],
            };
            for v in values {
                if !self.compatible(kind, v) {
                    errors.push(format!("{path}: {v} is not a valid {kind}"));
                }
            }
        }
        errors
    }

    /// Leaves by dotted path. Objects under a container field (`object`,
    /// `flattened`, `nested`) are leaves themselves.
    fn flatten<'a>(&self, path: &str, value: &'a Value, leaves: &mut Vec<(String, &'a Value)>) {
        match value {
            Value::Object(fields) if path.is_empty() || !self.is_container(path) => {
                for (key, v) in fields {
                    let here = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    self.flatten(&here, v, leaves);
                }
            }
            Value::Array(items)
                if items.iter().any(Value::is_object) && !self.is_container(path) =>
            {
                for item in items {
                    self.flatten(path, item, leaves);
                }
            }
            _ => leaves.push((path.to_owned(), value)),
        }
    }

    fn compatible(&self, kind: &str, v: &Value) -> bool {
        match kind {
            "keyword" | "constant_keyword" | "wildcard" | "match_only_text" | "text" => {
                v.is_string()
            }
            "ip" => v.as_str().is_some_and(|s| s.parse::<IpAddr>().is_ok()),
            "date" => v.as_str().is_some_and(|s| self.date.is_match(s)) || v.is_i64(),
            "long" => v.is_i64(),
            "integer" => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            "float" | "double" | "scaled_float" => v.is_number(),
            "boolean" => v.is_boolean(),
            "object" | "flattened" | "nested" => v.is_object(),
            "geo_point" => v.is_object() || v.is_string(),
            _ => false,
        }
    }
}
