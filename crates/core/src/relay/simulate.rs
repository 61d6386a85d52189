//! Simulated answers: rehearse a slow or failing webhook without touching
//! the user's service. The listener still stores (and forwards) every
//! request; only what the sender gets back changes. The [`Simulator`] is a
//! live handle shared by the listener and whoever sets it (the Response card,
//! `earshot serve --answer-*`), so a change applies to the next request
//! without a restart, and "the next N" counts down across restarts of the
//! listener alike.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// A simulated answer that cannot be given, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadSimulation(pub String);

/// Which requests a simulation applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum SimScope {
    /// Every request.
    All,
    /// The next `count` requests, then it switches itself off.
    Next {
        /// How many.
        count: u32,
    },
    /// Requests of one call.
    Session {
        /// The call's `session_id`.
        session_id: String,
    },
}

/// What to answer instead of the real answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Simulation {
    /// The status to answer with (ignored when `drop`).
    pub status: u16,
    /// How long to wait before answering (or dropping), in milliseconds.
    pub delay_ms: u64,
    /// Close the connection without an answer.
    pub drop: bool,
    /// Which requests.
    pub scope: SimScope,
}

impl Simulation {
    /// Checks the status and delay (at most 10 minutes: past watsonx's 30 s nothing changes).
    pub fn check(&self) -> Result<(), BadSimulation> {
        if !self.drop && !(100..=599).contains(&self.status) {
            return Err(BadSimulation(format!("{} is not an HTTP status (100–599)", self.status)));
        }
        if self.delay_ms > 600_000 {
            return Err(BadSimulation(format!(
                "a delay of {} s is longer than the 600 s allowed",
                self.delay_ms / 1000
            )));
        }
        if matches!(self.scope, SimScope::Next { count: 0 }) {
            return Err(BadSimulation("\"the next 0 requests\" simulates nothing; give a count of 1 or more".into()));
        }
        Ok(())
    }

    /// The delay.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms)
    }

    /// What the request log and the header badge say, e.g. `503`, `200 after 25 s`, `drop`.
    pub fn describe(&self) -> String {
        let what = if self.drop { "drop".to_string() } else { self.status.to_string() };
        match self.delay_ms {
            0 => what,
            ms if ms % 1000 == 0 => format!("{what} after {} s", ms / 1000),
            ms => format!("{what} after {:.1} s", ms as f64 / 1000.0),
        }
    }
}

/// The simulation in force and, for "the next N", how many are left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SimulationState {
    /// What is simulated.
    pub simulation: Simulation,
    /// What the badge says.
    pub label: String,
}

/// The live simulation switch. Cheap to clone; every clone is the same switch.
#[derive(Debug, Clone)]
pub struct Simulator {
    current: Arc<Mutex<Option<Simulation>>>,
    changes: Arc<watch::Sender<Option<SimulationState>>>,
}

impl Default for Simulator {
    fn default() -> Self {
        Simulator::new()
    }
}

impl Simulator {
    /// A switch that is off.
    pub fn new() -> Simulator {
        Simulator { current: Arc::new(Mutex::new(None)), changes: Arc::new(watch::channel(None).0) }
    }

    /// Turns a simulation on (after checking it) or off.
    pub fn set(&self, simulation: Option<Simulation>) -> Result<(), BadSimulation> {
        if let Some(simulation) = &simulation {
            simulation.check()?;
        }
        let mut current = self.current.lock().expect("simulation lock");
        *current = simulation;
        self.publish(&current);
        Ok(())
    }

    /// What is in force.
    pub fn state(&self) -> Option<SimulationState> {
        self.changes.borrow().clone()
    }

    /// The state now and as it changes.
    pub fn subscribe(&self) -> watch::Receiver<Option<SimulationState>> {
        self.changes.subscribe()
    }

    /// The simulation for a request of `session_id`, if one applies; counts
    /// it against "the next N", switching off after the last.
    pub fn take(&self, session_id: Option<&str>) -> Option<Simulation> {
        let mut current = self.current.lock().expect("simulation lock");
        let simulation = current.clone()?;
        match &simulation.scope {
            SimScope::All => {}
            SimScope::Session { session_id: wanted } if session_id == Some(wanted.as_str()) => {}
            SimScope::Session { .. } => return None,
            SimScope::Next { count } => {
                let left = count.saturating_sub(1);
                *current =
                    (left > 0).then(|| Simulation { scope: SimScope::Next { count: left }, ..simulation.clone() });
                self.publish(&current);
            }
        }
        Some(simulation)
    }

    fn publish(&self, current: &Option<Simulation>) {
        let state = current.as_ref().map(|simulation| {
            let scope = match &simulation.scope {
                SimScope::All => String::new(),
                SimScope::Next { count } => format!(", next {count}"),
                SimScope::Session { session_id } => format!(", call {}", short(session_id)),
            };
            SimulationState { simulation: simulation.clone(), label: format!("{}{scope}", simulation.describe()) }
        });
        self.changes.send_replace(state);
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::{SimScope, Simulation, Simulator};

    fn sim(scope: SimScope) -> Simulation {
        Simulation { status: 503, delay_ms: 0, drop: false, scope }
    }

    #[test]
    fn the_next_n_count_down_and_switch_off() {
        let simulator = Simulator::new();
        simulator.set(Some(sim(SimScope::Next { count: 2 }))).unwrap();
        assert_eq!(simulator.state().unwrap().label, "503, next 2");
        assert!(simulator.take(None).is_some());
        assert_eq!(simulator.state().unwrap().label, "503, next 1");
        assert!(simulator.take(Some("s")).is_some());
        assert!(simulator.state().is_none());
        assert!(simulator.take(None).is_none());
    }

    #[test]
    fn a_session_scope_applies_to_that_call_only() {
        let simulator = Simulator::new();
        simulator.set(Some(sim(SimScope::Session { session_id: "call-a".into() }))).unwrap();
        assert!(simulator.take(Some("call-b")).is_none());
        assert!(simulator.take(None).is_none());
        assert!(simulator.take(Some("call-a")).is_some());
        assert!(simulator.take(Some("call-a")).is_some(), "a session scope does not wear out");
    }

    #[test]
    fn labels_and_checks() {
        let slow = Simulation { status: 200, delay_ms: 25_000, drop: false, scope: SimScope::All };
        assert_eq!(slow.describe(), "200 after 25 s");
        let dropped = Simulation { drop: true, delay_ms: 1500, ..slow.clone() };
        assert_eq!(dropped.describe(), "drop after 1.5 s");
        assert!(Simulation { status: 42, ..slow.clone() }.check().is_err());
        assert!(Simulation { scope: SimScope::Next { count: 0 }, ..slow }.check().is_err());
    }
}
