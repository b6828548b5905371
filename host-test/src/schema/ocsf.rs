//! An OCSF event checker read from the schema's own files.
//!
//! A class or object is its file's attributes over those of what it
//! `extends`, with `$include`d profile attributes gated on the profile being
//! declared in `metadata.profiles`; each attribute takes its type, array-ness,
//! enumeration and sibling from `dictionary.json`. Types resolve through the
//! dictionary's type hierarchy (`ip_t` → `string_t`, `timestamp_t` →
//! `long_t`) with every regex, length and range on the way. The `datetime`
//! profile adds a `*_dt` (`datetime_t`) sibling to every `timestamp_t`.

use regex_lite::Regex;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

pub struct Ocsf {
    root: PathBuf,
    pub version: String,
    dictionary: Map<String, Value>,
    types: Map<String, Value>,
    categories: Map<String, Value>,
    events: HashMap<String, Value>,
    objects: HashMap<String, Value>,
    regexes: HashMap<String, Regex>,
}

/// One attribute of a class or object, resolved against the dictionary.
#[derive(Debug, Clone)]
struct Attr {
    kind: String,
    is_array: bool,
    requirement: Option<String>,
    enumeration: Map<String, Value>,
    sibling: Option<String>,
    profile: Option<String>,
}

/// A class or object with everything it inherits.
#[derive(Debug)]
struct Shape {
    name: String,
    caption: String,
    attributes: BTreeMap<String, Attr>,
    at_least_one: Vec<Vec<String>>,
    just_one: Vec<Vec<String>>,
    profiles: Vec<String>,
}

/// The attributes whose values the schema derives from the class itself
/// rather than from an `enum`: checked by [`Ocsf::check_classification`].
const DERIVED: [&str; 3] = ["class_uid", "category_uid", "type_uid"];

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// Every `*.json` under `dir`, by its `name`.
fn index(dir: &Path, into: &mut HashMap<String, Value>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            index(&path, into);
        } else if path.extension().is_some_and(|e| e == "json") {
            let def = read_json(&path);
            if let Some(name) = def["name"].as_str() {
                into.insert(name.to_owned(), def);
            }
        }
    }
}

/// `over` on top of `under`, key by key; enumerations are united.
fn overlay(under: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (key, value) in over {
        match (key.as_str(), under.get_mut(key), value) {
            ("enum", Some(Value::Object(old)), Value::Object(new)) => {
                old.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            _ => {
                under.insert(key.clone(), value.clone());
            }
        }
    }
}

impl Ocsf {
    pub fn load(root: &Path) -> Self {
        let dictionary = read_json(&root.join("dictionary.json"));
        let mut events = HashMap::new();
        index(&root.join("events"), &mut events);
        let mut objects = HashMap::new();
        index(&root.join("objects"), &mut objects);
        let types = dictionary["types"]["attributes"]
            .as_object()
            .expect("dictionary types")
            .clone();
        let regexes = types
            .iter()
            .filter_map(|(name, t)| {
                let pattern = t["regex"].as_str()?;
                let regex = Regex::new(pattern)
                    .unwrap_or_else(|e| panic!("the regex of {name} does not compile: {e}"));
                Some((name.clone(), regex))
            })
            .collect();
        Ocsf {
            version: read_json(&root.join("version.json"))["version"]
                .as_str()
                .expect("version.json has a version")
                .to_owned(),
            dictionary: dictionary["attributes"]
                .as_object()
                .expect("dictionary attributes")
                .clone(),
            types,
            categories: read_json(&root.join("categories.json"))["attributes"]
                .as_object()
                .expect("categories")
                .clone(),
            events,
            objects,
            regexes,
            root: root.to_owned(),
        }
    }

    /// The attributes of a definition as written, over those it extends and
    /// includes, not yet resolved against the dictionary.
    fn raw(&self, def: &Value, family: &HashMap<String, Value>) -> Map<String, Value> {
        let mut attrs = match def["extends"].as_str() {
            Some(parent) => self.raw(
                family
                    .get(parent)
                    .unwrap_or_else(|| panic!("{parent} is not defined")),
                family,
            ),
            None => Map::new(),
        };
        let own = def["attributes"].as_object().cloned().unwrap_or_default();
        for include in own
            .get("$include")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let included = read_json(&self.root.join(include.as_str().expect("an include path")));
            let profile = (included["meta"] == "profile").then(|| included["name"].clone());
            for (name, attr) in included["attributes"].as_object().into_iter().flatten() {
                let mut attr = attr.as_object().cloned().unwrap_or_default();
                if let Some(profile) = &profile {
                    attr.entry("profile").or_insert_with(|| profile.clone());
                }
                let slot = attrs
                    .entry(name.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                overlay(slot.as_object_mut().unwrap(), &attr);
            }
        }
        for (name, attr) in own.iter().filter(|(name, _)| *name != "$include") {
            let slot = attrs
                .entry(name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            overlay(
                slot.as_object_mut().unwrap(),
                attr.as_object().expect("an attribute"),
            );
        }
        attrs
    }

    /// The first value of `key` up the `extends` chain.
    fn inherited<'a>(
        &self,
        def: &'a Value,
        family: &'a HashMap<String, Value>,
        key: &str,
    ) -> Option<&'a Value> {
        def.get(key).filter(|v| !v.is_null()).or_else(|| {
            let parent = family.get(def["extends"].as_str()?)?;
            self.inherited(parent, family, key)
        })
    }

    fn shape(&self, def: &Value, family: &HashMap<String, Value>) -> Shape {
        let mut attributes = BTreeMap::new();
        for (name, raw) in self.raw(def, family) {
            let mut merged = self
                .dictionary
                .get(&name)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_else(|| panic!("{name} is not in the dictionary"));
            overlay(&mut merged, raw.as_object().unwrap());
            let text = |key: &str| merged.get(key).and_then(Value::as_str).map(str::to_owned);
            attributes.insert(
                name.clone(),
                Attr {
                    kind: text("type").unwrap_or_else(|| panic!("{name} has no type")),
                    is_array: merged.get("is_array") == Some(&Value::Bool(true)),
                    requirement: text("requirement"),
                    enumeration: merged
                        .get("enum")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                    sibling: text("sibling"),
                    profile: text("profile"),
                },
            );
        }
        let constraint = |kind: &str| -> Vec<Vec<String>> {
            self.inherited(def, family, "constraints")
                .and_then(|c| c.get(kind))
                .and_then(Value::as_array)
                .map(|names| {
                    vec![
                        names
                            .iter()
                            .filter_map(|n| n.as_str().map(str::to_owned))
                            .collect(),
                    ]
                })
                .unwrap_or_default()
        };
        let mut profiles = Vec::new();
        let mut at = Some(def);
        while let Some(d) = at {
            for p in d["profiles"].as_array().into_iter().flatten() {
                profiles.extend(p.as_str().map(str::to_owned));
            }
            at = d["extends"].as_str().and_then(|parent| family.get(parent));
        }
        Shape {
            name: def["name"].as_str().unwrap_or_default().to_owned(),
            caption: def["caption"].as_str().unwrap_or_default().to_owned(),
            attributes,
            at_least_one: constraint("at_least_one"),
            just_one: constraint("just_one"),
            profiles,
        }
    }

    fn object(&self, name: &str) -> Shape {
        let def = self
            .objects
            .get(name)
            .unwrap_or_else(|| panic!("no object {name}"));
        self.shape(def, &self.objects)
    }

    /// The event class whose `class_uid` is `uid`, with its category.
    fn class(&self, uid: i64) -> Option<(Shape, i64, &Map<String, Value>)> {
        self.events.values().find_map(|def| {
            let category = self.inherited(def, &self.events, "category")?.as_str()?;
            let category = self.categories.get(category)?.as_object()?;
            let category_uid = category["uid"].as_i64()?;
            (category_uid * 1000 + def["uid"].as_i64()? == uid)
                .then(|| (self.shape(def, &self.events), category_uid, category))
        })
    }

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
