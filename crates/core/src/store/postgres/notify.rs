//! Live changes across processes: every writer sends its events with
//! `pg_notify` in the transaction that made them (so they are delivered only
//! if it commits), and every store LISTENs on a connection of its own and
//! hands other processes' events to its subscribers.
//!
//! Notifications sent while this store was disconnected are lost, so after a
//! reconnect it catches up: rows newer than the newest it had seen are
//! announced as [`Event::RecordingStored`] / [`Event::RequestLogged`], and one
//! [`Event::Removed`] with nothing counted tells the app to refresh whatever
//! else (deletions, Keep) it may have missed.

use std::future::poll_fn;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use tokio_postgres::AsyncMessage;

use super::connect::Target;
use crate::events::Event;
use crate::model::Outcome;
use crate::store::{Removed, StoreError};

/// The notification channel.
pub(super) const CHANNEL: &str = "earshot";

/// The `application_name` of the listening connection.
pub(crate) const LISTENER_NAME: &str = "earshot-listen";

/// Wait between attempts to reach a server that is down.
const RECONNECT: Duration = Duration::from_millis(500);

/// Most rows announced on a catch-up; the app refreshes its lists on any event anyway.
const CATCH_UP: i64 = 500;

/// What goes over the wire: the event and which process sent it.
#[derive(Serialize, Deserialize)]
struct Notice {
    origin: String,
    event: Event,
}

/// The notification text for `event` from `origin`; `None` for events other processes have no use for.
pub(super) fn payload(origin: &str, event: &Event) -> Option<String> {
    if matches!(event, Event::StoreFault { .. }) {
        return None;
    }
    serde_json::to_string(&Notice { origin: origin.to_string(), event: event.clone() }).ok()
}

/// The newest rows this store has heard of.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    recording: i64,
    request: i64,
}

impl Seen {
    fn note(&mut self, event: &Event) {
        match event {
            Event::RecordingStored { row, .. } => self.recording = self.recording.max(*row),
            Event::RequestLogged { request_id, .. } => self.request = self.request.max(*request_id),
            _ => {}
        }
    }
}

/// Runs for the life of the store's runtime: listens, rebroadcasts, reconnects.
pub(super) async fn listen(target: Target, origin: String, events: broadcast::Sender<Event>) {
    let mut seen: Option<Seen> = None;
    loop {
        match session(&target, &origin, &events, &mut seen).await {
            Ok(()) => tracing::info!(target: "earshot::store", "change listener disconnected; reconnecting"),
            Err(e) => tracing::debug!(target: "earshot::store", "change listener: {e}"),
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

/// One connection's life: LISTEN, catch up on what was missed, relay until it drops.
async fn session(
    target: &Target,
    origin: &str,
    events: &broadcast::Sender<Event>,
    seen: &mut Option<Seen>,
) -> Result<(), StoreError> {
    let mut config = target.config().clone();
    // Named so an operator (or a test) can tell the listening connection from the pool's.
    config.application_name(LISTENER_NAME);
    let (client, mut connection) = config.connect(target.tls()?).await?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(message) = poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_string()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    let now = newest(&client).await?;
    if let Some(before) = *seen {
        catch_up(&client, before, events).await?;
    }
    let mut current = seen.unwrap_or(now);
    current.recording = current.recording.max(now.recording);
    current.request = current.request.max(now.request);
    *seen = Some(current);
    while let Some(text) = rx.recv().await {
        let Ok(notice) = serde_json::from_str::<Notice>(&text) else { continue };
        if let Some(seen) = seen.as_mut() {
            seen.note(&notice.event);
        }
        // Our own events reached our subscribers when our writer committed them.
        if notice.origin != origin {
            let _ = events.send(notice.event);
        }
    }
    Ok(())
}

async fn newest(client: &tokio_postgres::Client) -> Result<Seen, StoreError> {
    let row = client
        .query_one(
            "SELECT COALESCE((SELECT MAX(id) FROM recordings), 0), COALESCE((SELECT MAX(id) FROM requests), 0)",
            &[],
        )
        .await?;
    Ok(Seen { recording: row.try_get(0)?, request: row.try_get(1)? })
}

/// Announces what arrived while this store was not listening.
async fn catch_up(
    client: &tokio_postgres::Client,
    before: Seen,
    events: &broadcast::Sender<Event>,
) -> Result<(), StoreError> {
    let recordings = client
        .query(
            "SELECT id, recording_id, session_id, version FROM recordings WHERE id > $1 ORDER BY id LIMIT $2",
            &[&before.recording, &CATCH_UP],
        )
        .await?;
    for row in &recordings {
        let _ = events.send(Event::RecordingStored {
            row: row.try_get(0)?,
            recording_id: row.try_get(1)?,
            session_id: row.try_get(2)?,
            version: u32::try_from(row.try_get::<_, i64>(3)?).unwrap_or(u32::MAX),
        });
    }
    let requests = client
        .query(
            "SELECT id, status, outcome, session_id FROM requests WHERE id > $1 ORDER BY id LIMIT $2",
            &[&before.request, &CATCH_UP],
        )
        .await?;
    for row in &requests {
        let Some(outcome) = Outcome::from_name(&row.try_get::<_, String>(2)?) else { continue };
        let _ = events.send(Event::RequestLogged {
            request_id: row.try_get(0)?,
            status: u16::try_from(row.try_get::<_, i64>(1)?).unwrap_or(0),
            outcome,
            session_id: row.try_get(3)?,
        });
    }
    let _ = events.send(Event::Removed { removed: Removed::default() });
    Ok(())
}
