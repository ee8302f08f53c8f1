//! Activation strategies, their constraints and variants: the parts of a flag an SDK evaluates.
//!
//! Input arrives as loosely typed JSON (`*Input`, what Unleash's admin API accepts) and is
//! parsed into the strict types here, which are also what we store and send.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{Invalid, Timestamp};

/// Constraint operators: Unleash's server list plus `IN_CIDR`, which the client
/// specification and every current SDK understand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operator {
    In,
    NotIn,
    StrEndsWith,
    StrStartsWith,
    StrContains,
    NumEq,
    NumGt,
    NumGte,
    NumLt,
    NumLte,
    DateAfter,
    DateBefore,
    SemverEq,
    SemverGt,
    SemverLt,
    SemverGte,
    SemverLte,
    Regex,
    InCidr,
    /// An operator this server does not know, kept verbatim so stored data still loads and is
    /// served as written (SDKs evaluate such a flag to off). The admin API never writes one
    /// ([`Operator::parse`] refuses it); only `Service::import_client_state` can.
    #[serde(untagged)]
    Unknown(String),
}

impl Operator {
    pub const ALL: [Operator; 19] = [
        Self::NotIn,
        Self::In,
        Self::StrEndsWith,
        Self::StrStartsWith,
        Self::StrContains,
        Self::NumEq,
        Self::NumGt,
        Self::NumGte,
        Self::NumLt,
        Self::NumLte,
        Self::DateAfter,
        Self::DateBefore,
        Self::SemverEq,
        Self::SemverGt,
        Self::SemverLt,
        Self::SemverGte,
        Self::SemverLte,
        Self::Regex,
        Self::InCidr,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            Self::In => "IN",
            Self::NotIn => "NOT_IN",
            Self::StrEndsWith => "STR_ENDS_WITH",
            Self::StrStartsWith => "STR_STARTS_WITH",
            Self::StrContains => "STR_CONTAINS",
            Self::NumEq => "NUM_EQ",
            Self::NumGt => "NUM_GT",
            Self::NumGte => "NUM_GTE",
            Self::NumLt => "NUM_LT",
            Self::NumLte => "NUM_LTE",
            Self::DateAfter => "DATE_AFTER",
            Self::DateBefore => "DATE_BEFORE",
            Self::SemverEq => "SEMVER_EQ",
            Self::SemverGt => "SEMVER_GT",
            Self::SemverLt => "SEMVER_LT",
            Self::SemverGte => "SEMVER_GTE",
            Self::SemverLte => "SEMVER_LTE",
            Self::Regex => "REGEX",
            Self::InCidr => "IN_CIDR",
            Self::Unknown(name) => name,
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL.into_iter().find(|op| op.as_str() == s).ok_or_else(|| {
            let allowed: Vec<String> = Self::ALL.iter().map(|o| format!("\"{}\"", o.as_str())).collect();
            Invalid::at(
                "operator",
                format!(
                    "The `operator` property must be equal to one of the allowed values: {}. You provided \"{s}\", which is not valid. Please use one of the allowed values instead.",
                    allowed.join(", ")
                ),
            )
        })
    }

    /// Operators that compare against the single `value` rather than the `values` list.
    fn uses_single_value(&self) -> bool {
        !matches!(
            self,
            Self::In
                | Self::NotIn
                | Self::StrEndsWith
                | Self::StrStartsWith
                | Self::StrContains
                | Self::InCidr
                | Self::Unknown(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Constraint {
    pub context_name: String,
    pub operator: Operator,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default)]
    pub case_insensitive: bool,
    #[serde(default)]
    pub inverted: bool,
}

/// A constraint as the admin API accepts it: the operator is checked by [`Constraint::parse`]
/// so an unknown one gets Unleash's message rather than a serde error.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConstraintInput {
    #[serde(default)]
    pub context_name: Option<String>,
    #[serde(default)]
    pub operator: Option<String>,
    #[serde(default)]
    pub values: Option<Vec<Value>>,
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default)]
    pub case_insensitive: Option<bool>,
    #[serde(default)]
    pub inverted: Option<bool>,
}

impl Constraint {
    pub fn parse(input: ConstraintInput) -> Result<Self, Invalid> {
        let context_name = input
            .context_name
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| Invalid::at("contextName", "\"contextName\" is required."))?;
        let operator = Operator::parse(input.operator.as_deref().unwrap_or_default())?;
        let values = input
            .values
            .unwrap_or_default()
            .into_iter()
            .map(|v| {
                scalar_to_string(&v)
                    .ok_or_else(|| Invalid::at("values", "\"values\" must be a list of strings."))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let value = match input.value {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                scalar_to_string(&v)
                    .ok_or_else(|| Invalid::at("value", "\"value\" must be a string."))?,
            ),
        };
        if operator.uses_single_value() {
            let Some(v) = value.as_deref() else {
                return Err(Invalid::at(
                    "value",
                    format!(
                        "The {} operator compares against \"value\", which is missing.",
                        operator.as_str()
                    ),
                ));
            };
            check_single_value(&operator, v)?;
        }
        Ok(Self {
            context_name,
            operator,
            values,
            value,
            case_insensitive: input.case_insensitive.unwrap_or(false),
            inverted: input.inverted.unwrap_or(false),
        })
    }
}

fn check_single_value(operator: &Operator, v: &str) -> Result<(), Invalid> {
    let ok = match operator {
        Operator::NumEq
        | Operator::NumGt
        | Operator::NumGte
        | Operator::NumLt
        | Operator::NumLte => v.trim().parse::<f64>().is_ok_and(f64::is_finite),
        Operator::DateAfter | Operator::DateBefore => Timestamp::parse(v).is_some(),
        Operator::SemverEq
        | Operator::SemverGt
        | Operator::SemverLt
        | Operator::SemverGte
        | Operator::SemverLte => semver::Version::parse(v).is_ok(),
        Operator::Regex => regex::Regex::new(v).is_ok(),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let kind = match operator {
        Operator::DateAfter | Operator::DateBefore => "an ISO 8601 date-time",
        Operator::Regex => "a valid regular expression",
        Operator::SemverEq
        | Operator::SemverGt
        | Operator::SemverLt
        | Operator::SemverGte
        | Operator::SemverLte => "a valid semantic version (e.g. 1.2.3)",
        _ => "a number",
    };
    Err(Invalid::at(
        "value",
        format!(
            "The {} operator needs {kind}; \"{v}\" is not.",
            operator.as_str()
        ),
    ))
}

/// Turns a JSON scalar into the string Unleash would store (`10` → `"10"`, `true` → `"true"`).
pub fn scalar_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn parse_constraints(inputs: Vec<ConstraintInput>) -> Result<Vec<Constraint>, Invalid> {
    inputs
        .into_iter()
        .enumerate()
        .map(|(i, c)| Constraint::parse(c).map_err(|e| e.within(&format!("constraints[{i}]"))))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payload {
    #[serde(rename = "type")]
    pub payload_type: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Override {
    pub context_name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightType {
    Variable,
    Fix,
}

/// A variant: of a flag in one environment (with `overrides`), or of a strategy (without).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    pub name: String,
    pub weight: i64,
    pub weight_type: WeightType,
    pub stickiness: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub weight: Option<Value>,
    #[serde(default)]
    pub weight_type: Option<String>,
    #[serde(default)]
    pub stickiness: Option<String>,
    #[serde(default)]
    pub payload: Option<Payload>,
    #[serde(default)]
    pub overrides: Option<Vec<Override>>,
}

/// Parses variants and spreads the weight as Unleash does: `fix` variants keep theirs, the
/// `variable` ones share what is left of 1000 equally, the remainder going to the first ones.
pub fn parse_variants(
    inputs: Vec<VariantInput>,
    allow_overrides: bool,
) -> Result<Vec<Variant>, Invalid> {
    let mut variants = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.into_iter().enumerate() {
        let at = |e: Invalid| e.within(&format!("variants[{i}]"));
        let name = input.name.filter(|n| !n.trim().is_empty()).ok_or_else(|| {
            at(Invalid::at(
                "name",
                "Each variant needs a non-empty \"name\".",
            ))
        })?;
        let weight_type = match input.weight_type.as_deref() {
            None | Some("variable") => WeightType::Variable,
            Some("fix") => WeightType::Fix,
            Some(other) => {
                return Err(at(Invalid::at(
                    "weightType",
                    format!("\"weightType\" must be \"variable\" or \"fix\"; \"{other}\" is not."),
                )));
            }
        };
        let weight = match &input.weight {
            None | Some(Value::Null) => 0,
            Some(v) => scalar_to_string(v)
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| at(Invalid::at("weight", "\"weight\" must be a whole number.")))?,
        };
        if !(0..=1000).contains(&weight) {
            return Err(at(Invalid::at(
                "weight",
                format!("\"weight\" must be between 0 and 1000; {weight} is not."),
            )));
        }
        if let Some(p) = &input.payload {
            check_payload(p).map_err(at)?;
        }
        let overrides = input.overrides.unwrap_or_default();
        if !allow_overrides && !overrides.is_empty() {
            return Err(at(Invalid::at(
                "overrides",
                "Strategy variants cannot have overrides.",
            )));
        }
        if overrides.iter().any(|o| o.context_name.trim().is_empty()) {
            return Err(at(Invalid::at(
                "overrides",
                "Each override needs a \"contextName\".",
            )));
        }
        if variants.iter().any(|v: &Variant| v.name == name) {
            return Err(at(Invalid::at(
                "name",
                format!("Variant names must be unique; \"{name}\" appears twice."),
            )));
        }
        variants.push(Variant {
            name,
            weight,
            weight_type,
            stickiness: input
                .stickiness
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "default".into()),
            payload: input.payload,
            overrides,
        });
    }
    spread_weights(&mut variants)?;
    Ok(variants)
}

fn check_payload(p: &Payload) -> Result<(), Invalid> {
    let ok = match p.payload_type.as_str() {
        "string" | "csv" => true,
        "json" => serde_json::from_str::<Value>(&p.value).is_ok(),
        "number" => p.value.trim().parse::<f64>().is_ok(),
        other => {
            return Err(Invalid::at(
                "payload.type",
                format!(
                    "\"payload.type\" must be one of \"json\", \"csv\", \"string\", \"number\"; \"{other}\" is not."
                ),
            ));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Invalid::at(
            "payload.value",
            format!("The payload value is not valid {}.", p.payload_type),
        ))
    }
}

fn spread_weights(variants: &mut [Variant]) -> Result<(), Invalid> {
    if variants.is_empty() {
        return Ok(());
    }
    let fixed: i64 = variants
        .iter()
        .filter(|v| v.weight_type == WeightType::Fix)
        .map(|v| v.weight)
        .sum();
    if fixed > 1000 {
        return Err(Invalid::at(
            "variants",
            format!("The fixed variant weights add up to {fixed}, more than 1000."),
        ));
    }
    let variable = variants
        .iter()
        .filter(|v| v.weight_type == WeightType::Variable)
        .count() as i64;
    if variable == 0 {
        if fixed != 1000 {
            return Err(Invalid::at(
                "variants",
                "There must be at least one \"variable\" variant, or the fixed weights must add up to 1000.",
            ));
        }
        return Ok(());
    }
    let share = (1000 - fixed) / variable;
    let mut remainder = (1000 - fixed) % variable;
    for v in variants
        .iter_mut()
        .filter(|v| v.weight_type == WeightType::Variable)
    {
        v.weight = share + i64::from(remainder > 0);
        remainder -= 1;
    }
    Ok(())
}

/// The strategies an SDK knows how to evaluate. Anything else is refused on write.
pub const KNOWN_STRATEGIES: [&str; 8] = [
    "default",
    "flexibleRollout",
    "userWithId",
    "gradualRolloutUserId",
    "gradualRolloutSessionId",
    "gradualRolloutRandom",
    "remoteAddress",
    "applicationHostname",
];

/// A strategy attached to a flag in one environment, as stored and as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Strategy {
    pub id: String,
    pub name: String,
    pub title: Option<String>,
    pub disabled: bool,
    pub sort_order: i64,
    pub constraints: Vec<Constraint>,
    pub parameters: BTreeMap<String, String>,
    pub variants: Vec<Variant>,
    pub segments: Vec<i64>,
}

/// The body of "add strategy" and "update strategy".
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StrategyInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub disabled: Option<bool>,
    #[serde(default)]
    pub sort_order: Option<i64>,
    #[serde(default)]
    pub constraints: Option<Vec<ConstraintInput>>,
    #[serde(default)]
    pub parameters: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub variants: Option<Vec<VariantInput>>,
    #[serde(default)]
    pub segments: Option<Vec<i64>>,
}

/// A validated strategy without its identity: what a write carries.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategySpec {
    pub name: String,
    pub title: Option<String>,
    pub disabled: bool,
    pub sort_order: Option<i64>,
    pub constraints: Vec<Constraint>,
    pub parameters: BTreeMap<String, String>,
    pub variants: Vec<Variant>,
    pub segments: Vec<i64>,
}

impl StrategySpec {
    /// Checks the strategy against Unleash's rules. `feature` fills in the default `groupId`.
    pub fn parse(input: StrategyInput, feature: &str) -> Result<Self, Invalid> {
        let name = input.name.ok_or_else(|| {
            Invalid::at(
                "/body/name",
                "The `/body/name` property is required. It was not present on the data you sent.",
            )
        })?;
        if !KNOWN_STRATEGIES.contains(&name.as_str()) {
            return Err(Invalid::at(
                "name",
                format!(
                    "Unknown strategy \"{name}\". Known strategies: {}.",
                    KNOWN_STRATEGIES.join(", ")
                ),
            ));
        }
        let mut parameters = BTreeMap::new();
        for (key, value) in input.parameters.unwrap_or_default() {
            let s = scalar_to_string(&value).ok_or_else(|| {
                Invalid::at(
                    format!("parameters.{key}"),
                    format!("Parameter \"{key}\" must be a string or a number."),
                )
            })?;
            parameters.insert(key, s);
        }
        match name.as_str() {
            "flexibleRollout" => {
                check_percentage(&parameters, "rollout")?;
                parameters
                    .entry("stickiness".into())
                    .or_insert_with(|| "default".into());
                parameters
                    .entry("groupId".into())
                    .or_insert_with(|| feature.to_string());
            }
            "gradualRolloutUserId" | "gradualRolloutSessionId" => {
                check_percentage(&parameters, "percentage")?;
                parameters
                    .entry("groupId".into())
                    .or_insert_with(|| feature.to_string());
            }
            "gradualRolloutRandom" => check_percentage(&parameters, "percentage")?,
            _ => {}
        }
        let constraints = parse_constraints(input.constraints.unwrap_or_default())?;
        let variants = parse_variants(input.variants.unwrap_or_default(), false)?;
        let mut segments = input.segments.unwrap_or_default();
        segments.sort_unstable();
        segments.dedup();
        Ok(Self {
            name,
            title: input.title.filter(|t| !t.is_empty()),
            disabled: input.disabled.unwrap_or(false),
            sort_order: input.sort_order,
            constraints,
            parameters,
            variants,
            segments,
        })
    }

    /// What Unleash adds when a flag with no strategies is switched on: 100 % for everyone.
    pub fn default_for(feature: &str) -> Self {
        Self {
            name: "flexibleRollout".into(),
            title: None,
            disabled: false,
            sort_order: Some(0),
            constraints: vec![],
            parameters: BTreeMap::from([
                ("groupId".into(), feature.to_string()),
                ("rollout".into(), "100".into()),
                ("stickiness".into(), "default".into()),
            ]),
            variants: vec![],
            segments: vec![],
        }
    }

    pub fn into_strategy(self, id: String, sort_order: i64) -> Strategy {
        Strategy {
            id,
            name: self.name,
            title: self.title,
            disabled: self.disabled,
            sort_order: self.sort_order.unwrap_or(sort_order),
            constraints: self.constraints,
            parameters: self.parameters,
            variants: self.variants,
            segments: self.segments,
        }
    }
}

impl Strategy {
    /// The input that would recreate this strategy; the starting point of a JSON Patch.
    pub fn to_input_json(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "title": self.title,
            "disabled": self.disabled,
            "sortOrder": self.sort_order,
            "constraints": self.constraints,
            "parameters": self.parameters,
            "variants": self.variants,
            "segments": self.segments,
        })
    }
}

fn check_percentage(parameters: &BTreeMap<String, String>, key: &str) -> Result<(), Invalid> {
    let Some(raw) = parameters.get(key) else {
        return Ok(());
    };
    match raw.trim().parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) && p.fract() == 0.0 => Ok(()),
        _ => Err(Invalid::at(
            format!("parameters.{key}"),
            format!("\"{key}\" must be a whole number from 0 to 100; \"{raw}\" is not."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strategy(v: Value) -> Result<StrategySpec, Invalid> {
        StrategySpec::parse(serde_json::from_value(v).unwrap(), "flag")
    }

    #[test]
    fn flexible_rollout_gets_unleash_defaults_and_string_parameters() {
        let s =
            strategy(json!({"name": "flexibleRollout", "parameters": {"rollout": 10}})).unwrap();
        assert_eq!(s.parameters["rollout"], "10");
        assert_eq!(s.parameters["stickiness"], "default");
        assert_eq!(s.parameters["groupId"], "flag");
    }

    #[test]
    fn rollout_outside_0_to_100_is_refused() {
        for bad in [json!("101"), json!(-1), json!("ten"), json!(10.5)] {
            let e = strategy(json!({"name": "flexibleRollout", "parameters": {"rollout": bad}}))
                .unwrap_err();
            assert_eq!(e.path.as_deref(), Some("parameters.rollout"));
        }
    }

    #[test]
    fn unknown_strategy_and_operator_are_refused() {
        assert!(strategy(json!({"name": "myCustom"})).is_err());
        let e = strategy(json!({"name": "default", "constraints": [{"contextName": "userId", "operator": "LIKE", "values": ["x"]}]}))
            .unwrap_err();
        assert_eq!(e.path.as_deref(), Some("constraints[0].operator"));
        assert!(e.message.contains("You provided \"LIKE\""));
    }

    #[test]
    fn missing_name_uses_unleash_message() {
        let e = strategy(json!({"parameters": {"rollout": "10"}})).unwrap_err();
        assert_eq!(
            e.message,
            "The `/body/name` property is required. It was not present on the data you sent."
        );
    }

    #[test]
    fn every_client_spec_operator_is_accepted() {
        for op in Operator::ALL {
            let value = match op {
                Operator::DateAfter | Operator::DateBefore => json!("2024-01-01T00:00:00Z"),
                Operator::SemverEq
                | Operator::SemverGt
                | Operator::SemverLt
                | Operator::SemverGte
                | Operator::SemverLte => json!("1.2.3"),
                Operator::Regex => json!("^a.*"),
                _ => json!("5"),
            };
            let c = json!({"contextName": "x", "operator": op.as_str(), "values": ["a"], "value": value});
            assert!(
                Constraint::parse(serde_json::from_value(c).unwrap()).is_ok(),
                "{op:?}"
            );
        }
    }

    #[test]
    fn unknown_operators_load_and_serialise_verbatim_but_are_refused_on_input() {
        let c: Constraint = serde_json::from_value(
            json!({"contextName": "x", "operator": "NOT_A_VALID_OPERATOR", "value": "1"}),
        )
        .unwrap();
        assert_eq!(c.operator, Operator::Unknown("NOT_A_VALID_OPERATOR".into()));
        assert_eq!(
            serde_json::to_value(&c).unwrap()["operator"],
            "NOT_A_VALID_OPERATOR"
        );
        let known: Constraint =
            serde_json::from_value(json!({"contextName": "x", "operator": "REGEX", "value": "a"}))
                .unwrap();
        assert_eq!(known.operator, Operator::Regex);
        assert!(Operator::parse("NOT_A_VALID_OPERATOR").is_err());
    }

    #[test]
    fn single_value_operators_check_their_value() {
        for (op, bad) in [
            ("NUM_GT", "abc"),
            ("DATE_AFTER", "soon"),
            ("SEMVER_EQ", "v1"),
            ("REGEX", "("),
        ] {
            let c = json!({"contextName": "x", "operator": op, "value": bad});
            assert!(
                Constraint::parse(serde_json::from_value(c).unwrap()).is_err(),
                "{op}"
            );
        }
        let c = json!({"contextName": "x", "operator": "NUM_GT"});
        assert!(Constraint::parse(serde_json::from_value(c).unwrap()).is_err());
    }

    #[test]
    fn variable_weights_share_what_fixed_ones_leave() {
        let inputs = serde_json::from_value(json!([
            {"name": "a", "weight": 1, "weightType": "variable"},
            {"name": "b", "weight": 200, "weightType": "fix"},
            {"name": "c"},
        ]))
        .unwrap();
        let v = parse_variants(inputs, true).unwrap();
        assert_eq!(
            v.iter().map(|v| v.weight).collect::<Vec<_>>(),
            vec![400, 200, 400]
        );
        let odd =
            serde_json::from_value(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}])).unwrap();
        let v = parse_variants(odd, true).unwrap();
        assert_eq!(
            v.iter().map(|v| v.weight).collect::<Vec<_>>(),
            vec![334, 333, 333]
        );
    }

    #[test]
    fn bad_weights_and_payloads_are_refused() {
        for bad in [
            json!([{"name": "a", "weight": 1001, "weightType": "fix"}]),
            json!([{"name": "a", "weight": 600, "weightType": "fix"}, {"name": "b", "weight": 600, "weightType": "fix"}]),
            json!([{"name": "a", "weight": 500, "weightType": "fix"}]),
            json!([{"name": "a", "weightType": "heavy"}]),
            json!([{"name": "a", "payload": {"type": "json", "value": "{nope"}}]),
            json!([{"name": "a", "payload": {"type": "xml", "value": "<a/>"}}]),
            json!([{"name": "a"}, {"name": "a"}]),
        ] {
            assert!(
                parse_variants(serde_json::from_value(bad.clone()).unwrap(), true).is_err(),
                "{bad}"
            );
        }
    }
}
