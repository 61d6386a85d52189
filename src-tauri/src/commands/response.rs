//! The Response card: the simulated answer the listener gives instead of the
//! real one. The core's `Simulator` checks it and counts "the next N" down by
//! itself; the bridge forwards each change (`earshot://simulation`).

use earshot_core::relay::{Simulation, SimulationState};
use tauri::State;

use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;

/// The simulation in force, if any.
#[tauri::command]
pub async fn get_simulation(state: State<'_, Desktop>) -> IpcResult<Option<SimulationState>> {
    Ok(state.server().simulator().state())
}

/// Turns a simulation on (`null`: off, the real answer again); applies to the next request.
#[tauri::command]
pub async fn set_simulation(
    state: State<'_, Desktop>,
    simulation: Option<Simulation>,
) -> IpcResult<Option<SimulationState>> {
    let simulator = state.server().simulator();
    simulator.set(simulation).map_err(|reason| IpcError::new("bad_simulation", reason.to_string()))?;
    Ok(simulator.state())
}
