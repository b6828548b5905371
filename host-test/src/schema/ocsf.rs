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
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

mod check;

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
}
