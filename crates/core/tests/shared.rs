//! Two stores on one PostgreSQL database, as two processes would have
//! them: what one's writer commits reaches the other's subscribers (and its
//! own exactly once); a listening connection that drops catches up on what
//! was stored meanwhile.

use std::time::{Duration, Instant};

use earshot_core::{AuthRecord, NewRequest, Outcome, TokenCheck};
use earshot_core::{Event, Job, Store, StoreUrl};
use tokio::sync::broadcast;

mod common;

use common::postgres::PgServer;

fn logged(path: &str) -> Job {
    let request = NewRequest {
        received_at: "2026-12-01T00:00:00.000Z".into(),
        method: "POST".into(),
        path: path.into(),
        query: None,
        remote_addr: None,
        headers_json: "[]".into(),
        status: 400,
        outcome: Outcome::Rejected,
        error_code: Some("test".into()),
        reason: None,
        session_id: Some("call-live".into()),
        recording_id: None,
        auth: AuthRecord { verdict: TokenCheck::Off, reason: None, jwt_header: None, jwt_claims: None },
        parts_json: None,
        body_size: 0,
        body: None,
        body_audio_at: None,
        simulated: None,
    };
    Job::LogRequest { request }
}

/// The events `rx` receives within `wait`.
async fn drain(rx: &mut broadcast::Receiver<Event>, wait: Duration) -> Vec<Event> {
    let deadline = Instant::now() + wait;
    let mut seen = Vec::new();
    while let Ok(Ok(event)) = tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), rx.recv()).await
    {
        seen.push(event);
    }
    seen
}

fn logged_ids(events: &[Event]) -> Vec<i64> {
    events
        .iter()
        .filter_map(|e| if let Event::RequestLogged { request_id, .. } = e { Some(*request_id) } else { None })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_committed_by_one_store_reaches_the_others_subscribers_once_and_after_a_reconnect() {
    let Some(pg) = PgServer::start() else { return };
    let url = StoreUrl::Postgres(pg.database());
    let a = Store::open_url(&url).unwrap();
    let b = Store::open_url(&url).unwrap();
    let (mut at_a, mut at_b) = (a.subscribe(), b.subscribe());
    // Both listening connections are up before anything is written.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let first = a.writer().unwrap().submit(logged("/one"), Instant::now()).await.unwrap().logged().unwrap();
    assert_eq!(
        logged_ids(&drain(&mut at_b, Duration::from_secs(2)).await),
        vec![first.request_id],
        "b hears a's write"
    );
    assert_eq!(
        logged_ids(&drain(&mut at_a, Duration::from_millis(500)).await),
        vec![first.request_id],
        "a hears it once"
    );

    // b's listening connection drops; a writes before b is back.
    let name = PgServer::name_of(match &url {
        StoreUrl::Postgres(u) => u,
        StoreUrl::Sqlite(_) => unreachable!(),
    });
    let killed = pg.psql(
        name,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'earshot-listen'",
    );
    assert_eq!(killed.trim(), "2", "both stores' listening connections were found");
    let missed = a.writer().unwrap().submit(logged("/two"), Instant::now()).await.unwrap().logged().unwrap();
    let after = drain(&mut at_b, Duration::from_secs(3)).await;
    assert!(logged_ids(&after).contains(&missed.request_id), "b caught up on what it missed: {after:?}");
    assert!(after.contains(&Event::Removed { removed: Default::default() }), "b was told to refresh: {after:?}");

    let third = b.writer().unwrap().submit(logged("/three"), Instant::now()).await.unwrap().logged().unwrap();
    assert!(logged_ids(&drain(&mut at_a, Duration::from_secs(2)).await).contains(&third.request_id), "and live again");
}

/// Regression: the calls list failed on PostgreSQL with "could not determine
/// data type of parameter $1" (a filter parameter seen only by `IS NULL`).
#[test]
fn every_list_filter_is_a_query_postgresql_accepts() {
    use earshot_core::{Filter, VerdictFilter};
    let Some(pg) = PgServer::shared() else { return };
    let store = Store::open_url(&StoreUrl::Postgres(pg.database())).unwrap();
    let empty = Filter::default();
    let all = Filter {
        id_prefix: Some("call".into()),
        from: Some("2026-01-01".into()),
        to: Some("2026-12-31".into()),
        verdict: Some(VerdictFilter::Invalid),
    };
    let flagged = Filter { verdict: Some(VerdictFilter::Flagged), ..Filter::default() };
    for filter in [&empty, &all, &flagged] {
        assert_eq!(store.sessions_page(filter, 0, 50).unwrap().total, 0, "{filter:?}");
        assert_eq!(store.requests_page(filter, 0, 50).unwrap().total, 0, "{filter:?}");
        assert_eq!(store.sessions_page(filter, 10, 50).unwrap().total, 0, "{filter:?}");
    }
}
