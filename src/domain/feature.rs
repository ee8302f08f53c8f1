//! Flags (Unleash calls them features), the projects that hold them, the environments they are
//! switched in, and their tags.

use serde::{Deserialize, Serialize};

use crate::domain::name::parse_url_friendly;
use crate::domain::strategy::{Strategy, Variant};
use crate::domain::{Invalid, Timestamp};

pub const FEATURE_TYPES: [&str; 6] = [
    "experiment",
    "kill-switch",
    "release",
    "operational",
    "permission",
    "sunset",
];

pub fn parse_feature_type(value: Option<&str>) -> Result<String, Invalid> {
    let value = value.unwrap_or("release");
    if FEATURE_TYPES.contains(&value) {
        return Ok(value.to_string());
    }
    let allowed: Vec<String> = FEATURE_TYPES.iter().map(|t| format!("\"{t}\"")).collect();
    Err(Invalid::at(
        "type",
        format!(
            "The `type` property must be equal to one of the allowed values: {}. You provided \"{value}\", which is not valid. Please use one of the allowed values instead.",
            allowed.join(", ")
        ),
    ))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub name: String,
    #[serde(rename = "type")]
    pub env_type: String,
    pub sort_order: i64,
    pub enabled: bool,
}

#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct Tag {
    #[serde(rename = "type")]
    pub tag_type: String,
    pub value: String,
}

impl Tag {
    pub fn parse(tag_type: &str, value: &str) -> Result<Self, Invalid> {
        let tag_type = parse_url_friendly("type", tag_type)?;
        let value = value.trim();
        if value.len() < 2 || value.len() > 50 {
            return Err(Invalid::at(
                "value",
                "A tag value must be 2 to 50 characters long.",
            ));
        }
        Ok(Self {
            tag_type,
            value: value.to_string(),
        })
    }

    /// `type:value`, the client API's `tag` filter syntax.
    pub fn parse_filter(filter: &str) -> Result<Self, Invalid> {
        match filter.split_once(':') {
            Some((t, v)) if !t.is_empty() && !v.is_empty() => Ok(Self {
                tag_type: t.into(),
                value: v.into(),
            }),
            _ => Err(Invalid::at(
                "tag",
                format!("A tag filter looks like \"type:value\"; \"{filter}\" does not."),
            )),
        }
    }
}

/// A flag with everything that hangs off it, as read in one go from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub name: String,
    pub project: String,
    pub feature_type: String,
    pub description: Option<String>,
    pub impression_data: bool,
    pub stale: bool,
    pub created_at: Timestamp,
    pub created_by: String,
    pub created_by_user_id: Option<i64>,
    pub archived_at: Option<Timestamp>,
    /// Every environment, in sort order; a flag never switched in one shows it disabled.
    pub environments: Vec<FeatureEnvironment>,
    pub tags: Vec<Tag>,
    /// Parent flags this one needs, in every environment; sorted by parent name.
    pub dependencies: Vec<FeatureDependency>,
}

/// "Only when `feature` is enabled (or, with `enabled: false`, disabled), and — when
/// `variants` is not empty — gives one of these variants". A parent that does not exist makes
/// the child evaluate to off, so a dangling parent name is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureDependency {
    pub feature: String,
    pub enabled: bool,
    pub variants: Vec<String>,
}

/// The body of `POST …/features/{child}/dependencies`: `{feature, enabled?, variants?}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct FeatureDependencyInput {
    #[serde(default)]
    pub feature: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub variants: Option<Vec<String>>,
}

impl FeatureDependency {
    /// A dependency of `child` as a person may set it: a named parent other than the child,
    /// `enabled` true unless given, variant names not blank. As in Unleash, variants only
    /// narrow an `enabled: true` dependency, so with `enabled: false` they are dropped.
    /// Whether the parent exists, and where, is checked against the store.
    pub fn parse(child: &str, input: &FeatureDependencyInput) -> Result<Self, Invalid> {
        let feature = match input.feature.as_deref().map(str::trim) {
            Some(f) if !f.is_empty() => f.to_string(),
            _ => {
                return Err(Invalid::at(
                    "feature",
                    "\"feature\" is required: the name of the parent flag.",
                ));
            }
        };
        if feature == child {
            return Err(Invalid::at(
                "feature",
                "A feature flag cannot depend on itself.",
            ));
        }
        let enabled = input.enabled.unwrap_or(true);
        let mut variants = Vec::new();
        if enabled {
            for (i, v) in input.variants.iter().flatten().enumerate() {
                if v.trim().is_empty() {
                    return Err(Invalid::at(
                        format!("variants[{i}]"),
                        "A variant name cannot be empty.",
                    ));
                }
                if !variants.contains(v) {
                    variants.push(v.clone());
                }
            }
        }
        Ok(Self {
            feature,
            enabled,
            variants,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeatureEnvironment {
    pub environment: Environment,
    pub enabled: bool,
    pub variants: Vec<Variant>,
    /// In sort order.
    pub strategies: Vec<Strategy>,
}

impl Feature {
    pub fn environment(&self, name: &str) -> Option<&FeatureEnvironment> {
        self.environments
            .iter()
            .find(|e| e.environment.name == name)
    }
}

/// The fields a person may set on a flag (create, PUT, PATCH).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureMetadata {
    pub name: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub feature_type: String,
    pub impression_data: bool,
    pub stale: bool,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeatureInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, rename = "type")]
    pub feature_type: Option<String>,
    #[serde(default)]
    pub impression_data: Option<bool>,
    #[serde(default)]
    pub stale: Option<bool>,
    #[serde(default)]
    pub tags: Option<Vec<Tag>>,
}

impl FeatureMetadata {
    pub fn parse_new(input: &FeatureInput) -> Result<Self, Invalid> {
        let name = input
            .name
            .as_deref()
            .ok_or_else(|| Invalid::at("name", "\"name\" is required."))?;
        Ok(Self {
            name: parse_url_friendly("name", name)?,
            description: input.description.clone().filter(|d| !d.is_empty()),
            feature_type: parse_feature_type(input.feature_type.as_deref())?,
            impression_data: input.impression_data.unwrap_or(false),
            stale: input.stale.unwrap_or(false),
        })
    }

    /// An update keeps what the input leaves out; the name cannot change.
    pub fn parse_update(current: &Self, input: &FeatureInput) -> Result<Self, Invalid> {
        if let Some(name) = &input.name
            && name != &current.name
        {
            return Err(Invalid::at(
                "name",
                "A flag cannot be renamed: the body's \"name\" differs from the path's.",
            ));
        }
        Ok(Self {
            name: current.name.clone(),
            description: match &input.description {
                Some(d) if d.is_empty() => None,
                Some(d) => Some(d.clone()),
                None => current.description.clone(),
            },
            feature_type: match &input.feature_type {
                Some(t) => parse_feature_type(Some(t))?,
                None => current.feature_type.clone(),
            },
            impression_data: input.impression_data.unwrap_or(current.impression_data),
            stale: input.stale.unwrap_or(current.stale),
        })
    }
}

impl Feature {
    pub fn metadata(&self) -> FeatureMetadata {
        FeatureMetadata {
            name: self.name.clone(),
            description: self.description.clone(),
            feature_type: self.feature_type.clone(),
            impression_data: self.impression_data,
            stale: self.stale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_flags_default_to_release_and_reject_unknown_types() {
        let input = FeatureInput {
            name: Some("f".into()),
            ..Default::default()
        };
        assert_eq!(
            FeatureMetadata::parse_new(&input).unwrap().feature_type,
            "release"
        );
        let input = FeatureInput {
            name: Some("f".into()),
            feature_type: Some("nonsense".into()),
            ..Default::default()
        };
        let e = FeatureMetadata::parse_new(&input).unwrap_err();
        assert_eq!(e.path.as_deref(), Some("type"));
    }

    #[test]
    fn updates_keep_unset_fields_and_refuse_renames() {
        let current = FeatureMetadata::parse_new(&FeatureInput {
            name: Some("f".into()),
            description: Some("d".into()),
            ..Default::default()
        })
        .unwrap();
        let updated = FeatureMetadata::parse_update(
            &current,
            &FeatureInput {
                stale: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(updated.description.as_deref(), Some("d"));
        assert!(updated.stale);
        let rename = FeatureInput {
            name: Some("g".into()),
            ..Default::default()
        };
        assert!(FeatureMetadata::parse_update(&current, &rename).is_err());
    }

    #[test]
    fn dependencies_need_another_parent_and_default_to_enabled() {
        let input =
            |v: serde_json::Value| -> FeatureDependencyInput { serde_json::from_value(v).unwrap() };
        let d =
            FeatureDependency::parse("child", &input(serde_json::json!({"feature": "p"}))).unwrap();
        assert_eq!(
            d,
            FeatureDependency {
                feature: "p".into(),
                enabled: true,
                variants: vec![],
            }
        );
        let d = FeatureDependency::parse(
            "child",
            &input(serde_json::json!({"feature": "p", "enabled": false, "variants": ["a"]})),
        )
        .unwrap();
        assert!(!d.enabled && d.variants.is_empty());
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"feature": ""}),
            serde_json::json!({"feature": "child"}),
            serde_json::json!({"feature": "p", "variants": [" "]}),
        ] {
            assert!(
                FeatureDependency::parse("child", &input(bad.clone())).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn tag_filters_need_a_type_and_a_value() {
        assert_eq!(Tag::parse_filter("simple:beta").unwrap().value, "beta");
        assert!(Tag::parse_filter("simple").is_err());
        assert!(Tag::parse_filter(":x").is_err());
    }
}
