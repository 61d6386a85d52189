// The simulated answer as the window sees it: one subscription shared by the
// header badge and the Response card. The core counts "the next N" down by
// itself, so the state follows its events rather than what was last set.
import { api, errorMessage, onSimulationChange, type Simulation, type SimulationState } from "../ipc";

export class SimulationStore {
  state = $state<SimulationState | null>(null);
  error = $state("");
  busy = $state(false);
  private started = false;

  /** Reads the state once and follows it; safe to call more than once. */
  async init(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await onSimulationChange((state) => (this.state = state));
    try {
      this.state = await api.getSimulation();
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  /** Turns a simulation on, or off with null. */
  async set(simulation: Simulation | null): Promise<boolean> {
    this.busy = true;
    this.error = "";
    try {
      this.state = await api.setSimulation(simulation);
      return true;
    } catch (e) {
      this.error = errorMessage(e);
      return false;
    } finally {
      this.busy = false;
    }
  }
}

export const simulation = new SimulationStore();
