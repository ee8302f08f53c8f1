//! The store's contract, checked against `flagwatch::store::connect` directly on both
//! backends: audited commits, the revision, event queries, flag filters, round-trips of
//! booleans and JSON, conflicts, readiness, concurrent writers and metric sightings.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use flagwatch::domain::Timestamp;
use flagwatch::domain::event::{Actor, EventQuery, NewEvent};
use flagwatch::domain::feature::{Environment, FeatureMetadata, Project, Tag};
use flagwatch::domain::metrics::{Counts, MetricKey};
use flagwatch::domain::segment::SegmentSpec;
use flagwatch::domain::strategy::{
    Constraint, Operator, Override, Payload, Strategy, Variant, WeightType,
};
use flagwatch::store::{FeatureFilter, Store, StoreError};
use serde_json::json;

use crate::helpers::{Backend, TestDb};

/// A fresh store on a fresh database, dropped with it.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    db: TestDb,
}

impl TestStore {
    pub async fn open(backend: Backend) -> Option<Self> {
        let db = TestDb::create(backend).await?;
        let store = flagwatch::store::connect(db.url())
            .await
            .expect("store connects");
        Some(Self { store, db })
    }

    pub async fn close(self) {
        self.store.close().await;
        self.db.drop_database().await;
    }
}

/// Runs the body once on SQLite and once on PostgreSQL (skipped without
/// `TEST_DATABASE_URL`), as `name::sqlite` and `name::postgres`.
macro_rules! both_stores {
    ($name:ident, |$store:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($store: &std::sync::Arc<dyn flagwatch::store::Store>) $body

            #[tokio::test]
            async fn sqlite() {
                let t = super::TestStore::open($crate::helpers::Backend::Sqlite)
                    .await
                    .expect("sqlite");
                run(&t.store).await;
                t.close().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(t) = super::TestStore::open($crate::helpers::Backend::Postgres).await
                else {
                    return;
                };
                run(&t.store).await;
                t.close().await;
            }
        }
    };
}

fn actor() -> Actor {
    Actor::admin_token("tester")
}

fn project(id: &str) -> Project {
    Project {
        id: id.to_string(),
        name: format!("Project {id}"),
        description: Some("made by a test".into()),
        created_at: Timestamp(1_700_000_000_000),
    }
}

fn meta(name: &str) -> FeatureMetadata {
    FeatureMetadata {
        name: name.to_string(),
        description: None,
        feature_type: "release".into(),
        impression_data: false,
        stale: false,
    }
}

fn event(kind: &'static str) -> NewEvent {
    NewEvent::new(kind, &actor())
}

/// An event to append: type, flag, project, environment.
type EventSpec = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

fn all_events() -> EventQuery {
    EventQuery {
        limit: 1000,
        ..EventQuery::default()
    }
}

/// Inserts live flags (in `project`) with one event each, in one commit.
async fn insert_flags(store: &Arc<dyn Store>, project: &str, names: &[&str]) {
    let mut w = store.write().await.unwrap();
    for name in names {
        w.insert_feature(&meta(name), project, &actor())
            .await
            .unwrap();
        w.append_event(&event("feature-created").feature(project, name))
            .await
            .unwrap();
    }
    w.commit().await.unwrap();
}

/// The ids (newest first) and total of the events `q` selects.
async fn event_ids(store: &Arc<dyn Store>, q: EventQuery) -> (Vec<i64>, i64) {
    let (events, total) = store.read().await.unwrap().events(&q).await.unwrap();
    (events.iter().map(|e| e.id).collect(), total)
}

async fn flag_names(store: &Arc<dyn Store>, filter: &FeatureFilter) -> Vec<String> {
    let mut r = store.read().await.unwrap();
    r.features(filter)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect()
}

both_stores!(
    a_change_without_an_event_is_refused_and_not_stored,
    |store| {
        let before = store.read().await.unwrap().revision().await.unwrap();
        let mut w = store.write().await.unwrap();
        w.insert_project(&project("unaudited")).await.unwrap();
        assert!(
            w.project("unaudited").await.unwrap().is_some(),
            "visible inside its own transaction"
        );
        let err = w.commit().await.unwrap_err();
        assert!(matches!(err, StoreError::Unaudited(_)), "{err:?}");

        let mut r = store.read().await.unwrap();
        assert!(r.project("unaudited").await.unwrap().is_none());
        assert_eq!(r.revision().await.unwrap(), before);
        drop(r);

        // The refused writer released the database: the next one goes through.
        let mut w = store.write().await.unwrap();
        w.insert_project(&project("audited")).await.unwrap();
        w.append_event(&event("project-created").project("audited"))
            .await
            .unwrap();
        // Committed; a project moves no revision (tests/api/revision.rs), so no id comes back.
        assert_eq!(w.commit().await.unwrap(), None);
        let mut r = store.read().await.unwrap();
        assert!(r.project("audited").await.unwrap().is_some());
        assert!(r.project("unaudited").await.unwrap().is_none());
    }
);

both_stores!(a_dropped_writer_stores_nothing, |store| {
    let mut w = store.write().await.unwrap();
    w.insert_project(&project("dropped")).await.unwrap();
    w.append_event(&event("project-created").project("dropped"))
        .await
        .unwrap();
    drop(w);

    let mut r = store.read().await.unwrap();
    assert!(r.project("dropped").await.unwrap().is_none());
    assert_eq!(r.revision().await.unwrap(), 0);
    let (events, total) = r.events(&all_events()).await.unwrap();
    assert!(events.is_empty());
    assert_eq!(total, 0);
    drop(r);

    // And it did not keep the write lock.
    let mut w = store.write().await.unwrap();
    w.append_event(&event("probe")).await.unwrap();
    w.commit().await.unwrap();
});

both_stores!(
    commit_returns_the_last_event_id_which_is_the_revision,
    |store| {
        assert_eq!(store.read().await.unwrap().revision().await.unwrap(), 0);

        // Nothing written, nothing appended: commits, with no event id.
        let w = store.write().await.unwrap();
        assert_eq!(w.commit().await.unwrap(), None);

        let mut w = store.write().await.unwrap();
        w.insert_feature(&meta("f1"), "default", &actor())
            .await
            .unwrap();
        let first = w
            .append_event(&event("feature-created").feature("default", "f1"))
            .await
            .unwrap();
        let second = w
            .append_event(&event("feature-tagged").feature("default", "f1"))
            .await
            .unwrap();
        assert!(second > first);
        assert_eq!(w.commit().await.unwrap(), Some(second));
        assert_eq!(
            store.read().await.unwrap().revision().await.unwrap(),
            second
        );

        let mut w = store.write().await.unwrap();
        w.insert_feature(&meta("f2"), "default", &actor())
            .await
            .unwrap();
        let third = w
            .append_event(&event("feature-created").feature("default", "f2"))
            .await
            .unwrap();
        let committed = w.commit().await.unwrap();
        assert_eq!(committed, Some(third));
        assert!(third > second);
        assert_eq!(store.read().await.unwrap().revision().await.unwrap(), third);
    }
);

both_stores!(
    events_come_back_newest_first_filtered_and_counted,
    |store| {
        let specs: [EventSpec; 6] = [
            ("feature-created", Some("a"), Some("default"), None),
            ("feature-created", Some("b"), Some("default"), None),
            (
                "feature-environment-enabled",
                Some("a"),
                Some("default"),
                Some("development"),
            ),
            ("feature-created", Some("c"), Some("other"), None),
            ("segment-created", None, None, None),
            (
                "feature-environment-enabled",
                Some("c"),
                Some("other"),
                Some("production"),
            ),
        ];
        let mut ids = Vec::new();
        for (i, (kind, feature, project, env)) in specs.iter().enumerate() {
            if i > 0 {
                // Distinct milliseconds, so `from`/`to` can split the log.
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            let mut e = event(kind).data(json!({"n": i, "text": "ünïcødé ✓"}));
            if let (Some(f), Some(p)) = (feature, project) {
                e = e.feature(p, f);
            }
            if let Some(env) = env {
                e = e.environment(env);
            }
            let mut w = store.write().await.unwrap();
            ids.push(w.append_event(&e).await.unwrap());
            w.commit().await.unwrap();
        }

        let query = |q: EventQuery| EventQuery { limit: 1000, ..q };
        let ids_of = |q: EventQuery| event_ids(store, q);
        let newest_first: Vec<i64> = ids.iter().rev().copied().collect();

        let (all, total) = ids_of(all_events()).await;
        assert_eq!((all, total), (newest_first.clone(), 6));

        let (got, total) = ids_of(query(EventQuery {
            types: vec!["feature-created".into()],
            ..EventQuery::default()
        }))
        .await;
        assert_eq!((got, total), (vec![ids[3], ids[1], ids[0]], 3));

        let (got, total) = ids_of(query(EventQuery {
            types: vec![
                "feature-environment-enabled".into(),
                "segment-created".into(),
            ],
            ..EventQuery::default()
        }))
        .await;
        assert_eq!((got, total), (vec![ids[5], ids[4], ids[2]], 3));

        let (got, _) = ids_of(query(EventQuery {
            features: vec!["a".into()],
            ..EventQuery::default()
        }))
        .await;
        assert_eq!(got, [ids[2], ids[0]]);

        let (got, _) = ids_of(query(EventQuery {
            projects: vec!["other".into()],
            ..EventQuery::default()
        }))
        .await;
        assert_eq!(got, [ids[5], ids[3]]);

        let (got, _) = ids_of(query(EventQuery {
            environments: vec!["production".into()],
            ..EventQuery::default()
        }))
        .await;
        assert_eq!(got, [ids[5]]);

        let (got, total) = ids_of(query(EventQuery {
            types: vec!["feature-created".into()],
            projects: vec!["default".into()],
            ..EventQuery::default()
        }))
        .await;
        assert_eq!(
            (got, total),
            (vec![ids[1], ids[0]], 2),
            "filters combine with and"
        );

        // Paging: the total counts every match, the page is a window of them.
        let (got, total) = ids_of(EventQuery {
            offset: 1,
            limit: 2,
            ..EventQuery::default()
        })
        .await;
        assert_eq!((got, total), (vec![ids[4], ids[3]], 6));
        let (got, total) = ids_of(EventQuery {
            offset: 6,
            limit: 10,
            ..EventQuery::default()
        })
        .await;
        assert_eq!((got, total), (vec![], 6));
        let (got, total) = ids_of(EventQuery {
            types: vec!["feature-created".into()],
            offset: 2,
            limit: 5,
            ..EventQuery::default()
        })
        .await;
        assert_eq!((got, total), (vec![ids[0]], 3));

        // `from` is inclusive, `to` exclusive.
        let (events, _) = store
            .read()
            .await
            .unwrap()
            .events(&all_events())
            .await
            .unwrap();
        let at = |id: i64| events.iter().find(|e| e.id == id).unwrap().created_at;
        let times: Vec<Timestamp> = ids.iter().map(|id| at(*id)).collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
        let (got, total) = ids_of(query(EventQuery {
            from: Some(at(ids[2])),
            to: Some(at(ids[4])),
            ..EventQuery::default()
        }))
        .await;
        assert_eq!((got, total), (vec![ids[3], ids[2]], 2));
        let (got, _) = ids_of(query(EventQuery {
            from: Some(at(ids[5])),
            ..EventQuery::default()
        }))
        .await;
        assert_eq!(got, [ids[5]]);
        let (got, _) = ids_of(query(EventQuery {
            to: Some(at(ids[1])),
            ..EventQuery::default()
        }))
        .await;
        assert_eq!(got, [ids[0]]);

        // What was appended is what is read.
        let (events, _) = store
            .read()
            .await
            .unwrap()
            .events(&all_events())
            .await
            .unwrap();
        let oldest = events.last().unwrap();
        assert_eq!(oldest.event_type, "feature-created");
        assert_eq!(oldest.feature_name.as_deref(), Some("a"));
        assert_eq!(oldest.project.as_deref(), Some("default"));
        assert_eq!(oldest.environment, None);
        assert_eq!(oldest.created_by, "tester");
        assert_eq!(oldest.created_by_user_id, Some(Actor::ADMIN_TOKEN_USER_ID));
        assert_eq!(oldest.data, Some(json!({"n": 0, "text": "ünïcødé ✓"})));
        assert_eq!(oldest.pre_data, None);
    }
);

both_stores!(feature_filters_match_exactly, |store| {
    let mut w = store.write().await.unwrap();
    w.insert_project(&project("other")).await.unwrap();
    w.append_event(&event("project-created").project("other"))
        .await
        .unwrap();
    w.commit().await.unwrap();
    insert_flags(
        store,
        "default",
        &["a_b", "axb", "a%c", "abc", "ab", "zeta"],
    )
    .await;
    insert_flags(store, "other", &["a_other", "omega"]).await;

    let mut w = store.write().await.unwrap();
    let tag = |t: &str, v: &str| Tag {
        tag_type: t.into(),
        value: v.into(),
    };
    for (flag, t) in [
        ("abc", tag("simple", "red")),
        ("zeta", tag("simple", "blue")),
        ("omega", tag("simple", "red")),
        ("axb", tag("simple", "green")),
    ] {
        assert!(w.insert_feature_tag(flag, &t).await.unwrap());
        w.append_event(&event("feature-tagged")).await.unwrap();
    }
    w.set_feature_archived("zeta", Some(Timestamp::now()))
        .await
        .unwrap();
    w.append_event(&event("feature-archived")).await.unwrap();
    w.commit().await.unwrap();

    let all = flag_names(store, &FeatureFilter::default()).await;
    assert_eq!(
        all,
        ["a%c", "a_b", "a_other", "ab", "abc", "axb", "omega", "zeta"],
        "sorted by name, archived included when unfiltered"
    );
    assert_eq!(
        flag_names(
            store,
            &FeatureFilter {
                name: Some("abc".into()),
                ..FeatureFilter::default()
            }
        )
        .await,
        ["abc"]
    );
    assert!(
        flag_names(
            store,
            &FeatureFilter {
                name: Some("ab%".into()),
                ..FeatureFilter::default()
            }
        )
        .await
        .is_empty()
    );
    assert_eq!(
        flag_names(
            store,
            &FeatureFilter {
                projects: Some(vec!["other".into()]),
                ..FeatureFilter::default()
            }
        )
        .await,
        ["a_other", "omega"]
    );
    assert_eq!(
        flag_names(
            store,
            &FeatureFilter {
                projects: Some(vec!["other".into(), "default".into()]),
                ..FeatureFilter::default()
            }
        )
        .await
        .len(),
        8
    );
    assert!(
        flag_names(
            store,
            &FeatureFilter {
                projects: Some(vec![]),
                ..FeatureFilter::default()
            }
        )
        .await
        .is_empty(),
        "an empty project list matches nothing"
    );

    let prefix = |p: &str| FeatureFilter {
        name_prefix: Some(p.into()),
        ..FeatureFilter::default()
    };
    assert_eq!(
        flag_names(store, &prefix("a_")).await,
        ["a_b", "a_other"],
        "`_` is literal"
    );
    assert_eq!(
        flag_names(store, &prefix("a%")).await,
        ["a%c"],
        "`%` is literal"
    );
    assert_eq!(flag_names(store, &prefix("ab")).await, ["ab", "abc"]);
    assert_eq!(flag_names(store, &prefix("abc")).await, ["abc"]);
    assert!(flag_names(store, &prefix("abcd")).await.is_empty());
    assert!(
        flag_names(store, &prefix("A")).await.is_empty(),
        "case-sensitive"
    );

    let tagged = |tags: Vec<Tag>| FeatureFilter {
        tags,
        ..FeatureFilter::default()
    };
    assert_eq!(
        flag_names(store, &tagged(vec![tag("simple", "red")])).await,
        ["abc", "omega"]
    );
    assert_eq!(
        flag_names(
            store,
            &tagged(vec![tag("simple", "green"), tag("simple", "blue")])
        )
        .await,
        ["axb", "zeta"],
        "any of the tags"
    );
    assert!(
        flag_names(store, &tagged(vec![tag("other", "red")]))
            .await
            .is_empty(),
        "type and value both match"
    );

    assert_eq!(
        flag_names(
            store,
            &FeatureFilter {
                archived: Some(true),
                ..FeatureFilter::default()
            }
        )
        .await,
        ["zeta"]
    );
    let live = flag_names(store, &FeatureFilter::live()).await;
    assert_eq!(live.len(), 7);
    assert!(!live.contains(&"zeta".to_string()));

    // Everything at once.
    assert_eq!(
        flag_names(
            store,
            &FeatureFilter {
                name: None,
                projects: Some(vec!["default".into()]),
                name_prefix: Some("a".into()),
                tags: vec![tag("simple", "red"), tag("simple", "blue")],
                archived: Some(false),
            }
        )
        .await,
        ["abc"]
    );

    // Flags carry their tags, sorted.
    let mut r = store.read().await.unwrap();
    let abc = r.feature("abc").await.unwrap().unwrap();
    assert_eq!(abc.tags, [tag("simple", "red")]);
    assert!(r.feature("no-such").await.unwrap().is_none());
});

both_stores!(booleans_and_json_round_trip_identically, |store| {
    let mut w = store.write().await.unwrap();
    let staging = Environment {
        name: "staging".into(),
        env_type: "test".into(),
        sort_order: 9,
        enabled: false,
    };
    w.insert_environment(&staging).await.unwrap();
    let segment = SegmentSpec {
        name: "beta".into(),
        description: Some("Beta users".into()),
        project: Some("default".into()),
        constraints: vec![Constraint {
            context_name: "userId".into(),
            operator: Operator::In,
            values: vec!["u1".into(), "u2".into()],
            value: None,
            case_insensitive: true,
            inverted: false,
        }],
    };
    let segment_id = w.insert_segment(&segment, "tester").await.unwrap();
    let other_segment = w
        .insert_segment(
            &SegmentSpec {
                name: "gamma".into(),
                description: None,
                project: None,
                constraints: vec![],
            },
            "tester",
        )
        .await
        .unwrap();
    let flag = FeatureMetadata {
        name: "round-trip".into(),
        description: Some("«quoted» \"text\" \\ with 'quotes' and ✓".into()),
        feature_type: "experiment".into(),
        impression_data: true,
        stale: true,
    };
    w.insert_feature(&flag, "default", &actor()).await.unwrap();
    let plain = meta("plain");
    w.insert_feature(&plain, "default", &actor()).await.unwrap();

    let strategy = Strategy {
        id: "0000-strategy".into(),
        name: "flexibleRollout".into(),
        title: Some("Everyone, «eventually»".into()),
        disabled: true,
        sort_order: 7,
        constraints: vec![
            Constraint {
                context_name: "version".into(),
                operator: Operator::SemverGte,
                values: vec![],
                value: Some("1.2.3-beta.1".into()),
                case_insensitive: false,
                inverted: true,
            },
            Constraint {
                context_name: "email".into(),
                operator: Operator::StrEndsWith,
                values: vec!["@example.com".into(), "\"odd\",value".into()],
                value: None,
                case_insensitive: true,
                inverted: false,
            },
            Constraint {
                context_name: "userId".into(),
                operator: Operator::Regex,
                values: vec![],
                value: Some("^user\\d{3}$".into()),
                case_insensitive: false,
                inverted: false,
            },
        ],
        parameters: BTreeMap::from([
            ("groupId".into(), "round-trip".into()),
            ("rollout".into(), "42".into()),
            ("stickiness".into(), "userId".into()),
        ]),
        variants: vec![
            Variant {
                name: "blue".into(),
                weight: 600,
                weight_type: WeightType::Variable,
                stickiness: "default".into(),
                payload: Some(Payload {
                    payload_type: "json".into(),
                    value: "{\"nested\": [1, 2, {\"x\": null}]}".into(),
                }),
                overrides: vec![],
            },
            Variant {
                name: "green".into(),
                weight: 400,
                weight_type: WeightType::Fix,
                stickiness: "userId".into(),
                payload: None,
                overrides: vec![],
            },
        ],
        segments: vec![segment_id, other_segment],
    };
    w.insert_strategy("round-trip", "staging", &strategy)
        .await
        .unwrap();
    let enabled_strategy = Strategy {
        id: "0001-strategy".into(),
        name: "default".into(),
        title: None,
        disabled: false,
        sort_order: 0,
        constraints: vec![],
        parameters: BTreeMap::new(),
        variants: vec![],
        segments: vec![],
    };
    w.insert_strategy("round-trip", "development", &enabled_strategy)
        .await
        .unwrap();
    w.set_feature_enabled("round-trip", "development", true)
        .await
        .unwrap();
    w.set_feature_enabled("round-trip", "staging", false)
        .await
        .unwrap();
    let env_variants = vec![
        Variant {
            name: "control".into(),
            weight: 500,
            weight_type: WeightType::Variable,
            stickiness: "default".into(),
            payload: Some(Payload {
                payload_type: "string".into(),
                value: "c".into(),
            }),
            overrides: vec![Override {
                context_name: "userId".into(),
                values: vec!["u1".into()],
            }],
        },
        Variant {
            name: "treatment".into(),
            weight: 500,
            weight_type: WeightType::Variable,
            stickiness: "default".into(),
            payload: None,
            overrides: vec![],
        },
    ];
    w.set_feature_variants("round-trip", "development", &env_variants)
        .await
        .unwrap();
    let event_data = json!({"bool": true, "n": 1.5, "nested": {"list": [null, "✓"]}});
    w.append_event(
        &event("feature-created")
            .feature("default", "round-trip")
            .data(&event_data)
            .pre_data(json!(false)),
    )
    .await
    .unwrap();
    w.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    let envs = r.environments().await.unwrap();
    assert_eq!(
        envs.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["development", "production", "staging"]
    );
    assert!(envs[0].enabled && envs[1].enabled);
    assert_eq!(envs[2], staging, "enabled=false survives");
    assert_eq!(r.environment("staging").await.unwrap(), Some(staging));

    let f = r.feature("round-trip").await.unwrap().unwrap();
    assert_eq!(f.metadata(), flag);
    assert!(f.impression_data && f.stale);
    assert_eq!(f.project, "default");
    assert_eq!(f.created_by, "tester");
    assert_eq!(f.created_by_user_id, Some(Actor::ADMIN_TOKEN_USER_ID));
    assert_eq!(f.archived_at, None);
    let dev = f.environment("development").unwrap();
    assert!(dev.enabled);
    assert_eq!(dev.variants, env_variants);
    assert_eq!(dev.strategies, [enabled_strategy]);
    let stg = f.environment("staging").unwrap();
    assert!(!stg.enabled);
    assert!(stg.variants.is_empty());
    assert_eq!(stg.strategies, std::slice::from_ref(&strategy));
    let prod = f.environment("production").unwrap();
    assert!(!prod.enabled && prod.strategies.is_empty() && prod.variants.is_empty());

    let p = r.feature("plain").await.unwrap().unwrap();
    assert_eq!(p.metadata(), plain);
    assert!(!p.impression_data && !p.stale);

    let seg = r.segment(segment_id).await.unwrap().unwrap();
    assert_eq!(seg.name, "beta");
    assert_eq!(seg.constraints, segment.constraints);
    assert_eq!(seg.project.as_deref(), Some("default"));
    assert_eq!(seg.description.as_deref(), Some("Beta users"));
    let usage = r.segment_usage().await.unwrap();
    assert_eq!(usage[&segment_id], ["round-trip"]);

    let (events, _) = r.events(&all_events()).await.unwrap();
    assert_eq!(events[0].data, Some(event_data));
    assert_eq!(events[0].pre_data, Some(json!(false)));
    assert!(events[0].tags.is_empty());
    drop(r);

    // Flipping every boolean the other way round-trips too.
    let mut w = store.write().await.unwrap();
    let flipped = FeatureMetadata {
        impression_data: false,
        stale: false,
        description: None,
        ..flag.clone()
    };
    w.update_feature(&flipped).await.unwrap();
    let enabled_again = Strategy {
        disabled: false,
        segments: vec![other_segment],
        ..strategy
    };
    w.update_strategy(&enabled_again).await.unwrap();
    w.set_feature_enabled("round-trip", "development", false)
        .await
        .unwrap();
    w.set_feature_enabled("round-trip", "staging", true)
        .await
        .unwrap();
    w.append_event(&event("feature-metadata-updated"))
        .await
        .unwrap();
    w.commit().await.unwrap();
    let f = store
        .read()
        .await
        .unwrap()
        .feature("round-trip")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(f.metadata(), flipped);
    assert!(!f.environment("development").unwrap().enabled);
    let stg = f.environment("staging").unwrap();
    assert!(stg.enabled);
    assert_eq!(stg.strategies, [enabled_again]);
    assert_eq!(
        f.environment("development").unwrap().variants,
        env_variants,
        "switching keeps the variants"
    );
});

both_stores!(unique_and_foreign_key_violations_are_conflicts, |store| {
    let conflict = |e: StoreError| match e {
        StoreError::Conflict { constraint } => constraint,
        other => panic!("expected a conflict, got {other:?}"),
    };

    let mut w = store.write().await.unwrap();
    let err = w.insert_project(&project("default")).await.unwrap_err();
    conflict(err);
    drop(w);

    insert_flags(store, "default", &["taken"]).await;
    let mut w = store.write().await.unwrap();
    let err = w
        .insert_feature(&meta("taken"), "default", &actor())
        .await
        .unwrap_err();
    conflict(err);
    drop(w);

    let mut w = store.write().await.unwrap();
    let err = w
        .insert_feature(&meta("orphan"), "no-such-project", &actor())
        .await
        .unwrap_err();
    conflict(err);
    drop(w);

    let spec = SegmentSpec {
        name: "dupe".into(),
        description: None,
        project: None,
        constraints: vec![],
    };
    let mut w = store.write().await.unwrap();
    w.insert_segment(&spec, "tester").await.unwrap();
    w.append_event(&event("segment-created")).await.unwrap();
    w.commit().await.unwrap();
    let mut w = store.write().await.unwrap();
    let err = w.insert_segment(&spec, "tester").await.unwrap_err();
    conflict(err);
    drop(w);

    let mut w = store.write().await.unwrap();
    let err = w
        .insert_environment(&Environment {
            name: "development".into(),
            env_type: "development".into(),
            sort_order: 1,
            enabled: true,
        })
        .await
        .unwrap_err();
    conflict(err);
    drop(w);

    let mut w = store.write().await.unwrap();
    let err = w.insert_tag_type("simple", None, None).await.unwrap_err();
    conflict(err);
    drop(w);

    // Nothing of the refused writes was stored.
    let mut r = store.read().await.unwrap();
    assert!(r.feature("orphan").await.unwrap().is_none());
    assert_eq!(r.segments().await.unwrap().len(), 1);
    assert_eq!(r.environments().await.unwrap().len(), 2);
    assert_eq!(r.projects().await.unwrap().len(), 1);
});

both_stores!(ready_after_connect, |store| {
    assert!(store.ready().await.unwrap());
    let mut r = store.read().await.unwrap();
    assert_eq!(
        r.projects()
            .await
            .unwrap()
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        ["default"],
        "migrations seeded the default project"
    );
    let types: BTreeSet<String> = r
        .tag_types()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert!(types.contains("simple"));
});

both_stores!(
    concurrent_writers_all_commit_with_distinct_event_ids,
    |store| {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20 {
            let store = store.clone();
            tasks.spawn(async move {
                let id = format!("concurrent-{i:02}");
                let mut w = store.write().await?;
                w.insert_feature(&meta(&id), "default", &actor()).await?;
                let event_id = w
                    .append_event(&event("feature-created").feature("default", &id))
                    .await?;
                let committed = w.commit().await?;
                assert_eq!(committed, Some(event_id));
                Ok::<i64, StoreError>(event_id)
            });
        }
        let mut ids = BTreeSet::new();
        while let Some(done) = tasks.join_next().await {
            let id = done.expect("task").expect("every writer commits");
            assert!(ids.insert(id), "event id {id} handed out twice");
        }
        assert_eq!(ids.len(), 20);

        let mut r = store.read().await.unwrap();
        assert_eq!(r.features(&FeatureFilter::live()).await.unwrap().len(), 20);
        assert_eq!(r.revision().await.unwrap(), *ids.last().unwrap());
        let (events, total) = r.events(&all_events()).await.unwrap();
        assert_eq!(total, 20);
        let stored: BTreeSet<i64> = events.iter().map(|e| e.id).collect();
        assert_eq!(stored, ids);
    }
);

both_stores!(metrics_last_seen_keeps_the_latest_sighting, |store| {
    let key = |feature: &str, environment: &str, hour: i64| MetricKey {
        feature_name: feature.into(),
        environment: environment.into(),
        app_name: "app".into(),
        hour,
    };
    let counts = |yes: i64, last_seen: Option<i64>| Counts {
        yes,
        last_seen: last_seen.map(Timestamp),
        ..Counts::default()
    };
    // Three flushes into the same row: a sighting, an earlier one, none. Then another hour.
    for (c, hour) in [
        (counts(1, Some(2_000)), 0),
        (counts(1, Some(1_000)), 0),
        (counts(0, None), 0),
        (counts(1, Some(1_500)), 3_600_000),
        (counts(0, None), 0),
    ] {
        let mut w = store.record_observations().await.unwrap();
        w.add_metric_hour(&key("f", "production", hour), &c)
            .await
            .unwrap();
        // Only variant counts: a row, but no sighting.
        let variants_only = Counts {
            variants: [("red".to_string(), 1)].into(),
            ..Counts::default()
        };
        w.add_metric_hour(&key("g", "development", hour), &variants_only)
            .await
            .unwrap();
        w.commit().await.unwrap();
    }
    // A null last_seen first, then a sighting: the sighting is kept.
    let mut w = store.record_observations().await.unwrap();
    w.add_metric_hour(&key("f", "development", 0), &counts(0, None))
        .await
        .unwrap();
    w.add_metric_hour(&key("f", "development", 0), &counts(1, Some(500)))
        .await
        .unwrap();
    w.commit().await.unwrap();

    let mut r = store.read().await.unwrap();
    let rows = r.metric_hours("f", 0).await.unwrap();
    let seen: Vec<(&str, i64, Option<Timestamp>)> = rows
        .iter()
        .map(|m| (m.key.environment.as_str(), m.key.hour, m.counts.last_seen))
        .collect();
    assert_eq!(
        seen,
        [
            ("development", 0, Some(Timestamp(500))),
            ("production", 0, Some(Timestamp(2_000))),
            ("production", 3_600_000, Some(Timestamp(1_500))),
        ]
    );
    let expected: HashMap<(String, String), Timestamp> = [
        (("f".into(), "development".into()), Timestamp(500)),
        (("f".into(), "production".into()), Timestamp(2_000)),
    ]
    .into();
    assert_eq!(r.feature_last_seen(Some("f")).await.unwrap(), expected);
    assert_eq!(r.feature_last_seen(None).await.unwrap(), expected);
    assert!(r.feature_last_seen(Some("g")).await.unwrap().is_empty());
});
