//! Checking an event against the schema [`Ocsf`] has read: its class and
//! category, every object's attributes (requirements, types, enumerations,
//! profiles) down the tree.

use super::{Attr, DERIVED, Ocsf, Shape};
use serde_json::{Map, Value};
use std::collections::HashSet;

impl Ocsf {
    /// Every way `event` breaks the schema, one line each; empty when it conforms.
    pub fn check_event(&self, event: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        let Some(class_uid) = event["class_uid"].as_i64() else {
            return vec!["class_uid: missing or not an integer".into()];
        };
        let Some((class, category_uid, category)) = self.class(class_uid) else {
            return vec![format!("class_uid: no class has uid {class_uid}")];
        };
        let profiles: HashSet<String> = event["metadata"]["profiles"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_owned))
            .collect();
        for p in &profiles {
            if !class.profiles.contains(p) {
                errors.push(format!(
                    "metadata.profiles: {} does not take the {p} profile",
                    class.name
                ));
            }
        }
        self.check_classification(event, &class, category_uid, category, &mut errors);
        self.check_object("", event, &class, &profiles, &mut errors);
        errors
    }

    /// The values the schema derives from the class: its uid, its category's,
    /// `type_uid` = `class_uid` × 100 + `activity_id`, and their captions.
    fn check_classification(
        &self,
        event: &Value,
        class: &Shape,
        category_uid: i64,
        category: &Map<String, Value>,
        errors: &mut Vec<String>,
    ) {
        let class_uid = event["class_uid"].as_i64().unwrap_or_default();
        if event["category_uid"].as_i64() != Some(category_uid) {
            errors.push(format!(
                "category_uid: {} is not the class's category {category_uid}",
                event["category_uid"]
            ));
        }
        let activity = event["activity_id"].as_i64().unwrap_or_default();
        if event["type_uid"].as_i64() != Some(class_uid * 100 + activity) {
            errors.push(format!(
                "type_uid: {} is not class_uid × 100 + activity_id = {}",
                event["type_uid"],
                class_uid * 100 + activity
            ));
        }
        let mut expect = |name: &str, caption: Option<&str>| {
            if let (Some(value), Some(caption)) = (event.get(name), caption)
                && value != caption
            {
                errors.push(format!("{name}: {value} is not {caption:?}"));
            }
        };
        expect("class_name", Some(&class.caption));
        expect("category_name", category["caption"].as_str());
        let activity_caption = class.attributes["activity_id"]
            .enumeration
            .get(&activity.to_string())
            .and_then(|e| e["caption"].as_str());
        if activity != 99 {
            expect(
                "type_name",
                activity_caption
                    .map(|a| format!("{}: {a}", class.caption))
                    .as_deref(),
            );
        }
    }

    fn active(attr: &Attr, profiles: &HashSet<String>) -> bool {
        attr.profile.as_ref().is_none_or(|p| profiles.contains(p))
    }

    /// Whether `kind` is `ancestor` or one of its subtypes.
    fn is_a(&self, kind: &str, ancestor: &str) -> bool {
        let mut at = Some(kind);
        while let Some(t) = at {
            if t == ancestor {
                return true;
            }
            at = self.types.get(t).and_then(|d| d["type"].as_str());
        }
        false
    }

    fn check_object(
        &self,
        path: &str,
        value: &Value,
        shape: &Shape,
        profiles: &HashSet<String>,
        errors: &mut Vec<String>,
    ) {
        let Some(fields) = value.as_object() else {
            errors.push(format!(
                "{path}: expected a {} object, got {value}",
                shape.name
            ));
            return;
        };
        let at = |name: &str| {
            if path.is_empty() {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            }
        };
        for (name, v) in fields {
            let here = at(name);
            match shape.attributes.get(name) {
                Some(attr) if Self::active(attr, profiles) => {
                    let derived = path.is_empty() && DERIVED.contains(&name.as_str());
                    self.check_value(&here, v, attr, derived, profiles, errors);
                }
                Some(attr) => errors.push(format!(
                    "{here}: belongs to the {} profile, which metadata.profiles does not declare",
                    attr.profile.as_deref().unwrap_or_default()
                )),
                None => {
                    let timestamp = name
                        .strip_suffix("_dt")
                        .and_then(|base| shape.attributes.get(base))
                        .filter(|a| Self::active(a, profiles) && self.is_a(&a.kind, "timestamp_t"));
                    match timestamp {
                        Some(_) if profiles.contains("datetime") => {
                            self.check_type(&here, v, "datetime_t", errors)
                        }
                        Some(_) => errors.push(format!(
                            "{here}: a datetime sibling, but metadata.profiles does not declare datetime"
                        )),
                        None => errors.push(format!("{here}: {} has no such attribute", shape.name)),
                    }
                }
            }
        }
        for (name, attr) in &shape.attributes {
            if attr.requirement.as_deref() == Some("required")
                && Self::active(attr, profiles)
                && !fields.contains_key(name)
            {
                errors.push(format!(
                    "{}: required by {} but missing",
                    at(name),
                    shape.name
                ));
            }
            // An enumerated id and its caption, unless the id is Other (99).
            if let (Some(sibling), Some(id), false) = (
                &attr.sibling,
                fields.get(name),
                attr.enumeration.is_empty()
                    || (path.is_empty() && DERIVED.contains(&name.as_str())),
            ) && let Some(label) = fields.get(sibling)
                && id != 99
                && let Some(caption) = attr.enumeration.get(&id.to_string()).map(|e| &e["caption"])
                && label != caption
            {
                errors.push(format!(
                    "{}: {label} is not the caption of {name} {id}, {caption}",
                    at(sibling)
                ));
            }
        }
        for group in &shape.at_least_one {
            if !group.iter().any(|k| fields.contains_key(k)) {
                errors.push(format!(
                    "{path}: {} needs at least one of {group:?}",
                    shape.name
                ));
            }
        }
        for group in &shape.just_one {
            if group.iter().filter(|k| fields.contains_key(*k)).count() != 1 {
                errors.push(format!(
                    "{path}: {} needs exactly one of {group:?}",
                    shape.name
                ));
            }
        }
    }

    fn check_value(
        &self,
        path: &str,
        value: &Value,
        attr: &Attr,
        derived: bool,
        profiles: &HashSet<String>,
        errors: &mut Vec<String>,
    ) {
        match (attr.is_array, value) {
            (true, Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_one(
                        &format!("{path}[{i}]"),
                        item,
                        attr,
                        derived,
                        profiles,
                        errors,
                    );
                }
            }
            (true, _) => errors.push(format!("{path}: expected an array, got {value}")),
            (false, Value::Array(_)) => {
                errors.push(format!("{path}: expected one value, got an array"))
            }
            (false, _) => self.check_one(path, value, attr, derived, profiles, errors),
        }
    }

    fn check_one(
        &self,
        path: &str,
        value: &Value,
        attr: &Attr,
        derived: bool,
        profiles: &HashSet<String>,
        errors: &mut Vec<String>,
    ) {
        if attr.kind == "object" {
            // The generic object (`unmapped`): any attributes.
            if !value.is_object() {
                errors.push(format!("{path}: expected an object, got {value}"));
            }
            return;
        }
        if self.objects.contains_key(&attr.kind) {
            self.check_object(path, value, &self.object(&attr.kind), profiles, errors);
            return;
        }
        self.check_type(path, value, &attr.kind, errors);
        if !derived && !attr.enumeration.is_empty() {
            let key = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            if !attr.enumeration.contains_key(&key) {
                errors.push(format!(
                    "{path}: {value} is not one of the enumeration's values"
                ));
            }
        }
    }

    /// A scalar of a dictionary type: its base type and every constraint
    /// (regex, max_len, range) up the type hierarchy.
    fn check_type(&self, path: &str, value: &Value, kind: &str, errors: &mut Vec<String>) {
        let mut at = Some(kind);
        let mut base = kind;
        while let Some(t) = at {
            let Some(def) = self.types.get(t) else {
                errors.push(format!("{path}: unknown type {t}"));
                return;
            };
            base = t;
            if let (Some(regex), Some(text)) = (self.regexes.get(t), value.as_str())
                && !regex.is_match(text)
            {
                errors.push(format!("{path}: {value} does not match the pattern of {t}"));
            }
            if let (Some(max), Some(text)) = (def["max_len"].as_u64(), value.as_str())
                && text.len() as u64 > max
            {
                errors.push(format!("{path}: {value} is longer than {t} allows ({max})"));
            }
            if let (Some([lo, hi]), Some(n)) =
                (def["range"].as_array().map(Vec::as_slice), value.as_i64())
                && (lo.as_i64().is_some_and(|lo| n < lo) || hi.as_i64().is_some_and(|hi| n > hi))
            {
                errors.push(format!("{path}: {value} is outside the range of {t}"));
            }
            at = def["type"].as_str();
        }
        let fits = match base {
            "string_t" => value.is_string(),
            "integer_t" => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            "long_t" => value.is_i64(),
            "float_t" => value.is_number(),
            "boolean_t" => value.is_boolean(),
            "json_t" => true,
            other => {
                errors.push(format!(
                    "{path}: the base type {other} is unknown to this checker"
                ));
                return;
            }
        };
        if !fits {
            errors.push(format!("{path}: {value} is not a {kind} ({base})"));
        }
    }
}
