// The window's one delete flow, shared by the calls, recordings and requests
// views: ask (with the preview's counts), delete, then offer Undo for 10 s.
import { api, errorMessage, type DeleteTarget, type Removed } from "../ipc";
import { confirmText, deletedText, Expiring, removedText } from "./lifecycle";

export type Asking = { target: DeleteTarget; what: string; text: string; removed: Removed };
export type Toast = { text: string; token: number | null };

export class DeletionStore {
  asking = $state<Asking | null>(null);
  toast = $state<Toast | null>(null);
  error = $state("");
  busy = $state(false);
  private toasts = new Expiring<Toast>((t) => (this.toast = t));

  /** Opens the confirmation for `target`, saying what it takes. */
  async ask(target: DeleteTarget, what: string, note: string | null = null): Promise<void> {
    this.error = "";
    try {
      const removed = await api.deletePreview(target);
      this.asking = { target, what, removed, text: confirmText(what, removed, note) };
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  cancel(): void {
    this.asking = null;
  }

  /** Deletes what the confirmation named; the toast offers Undo. */
  async confirm(): Promise<void> {
    const asking = this.asking;
    if (!asking || this.busy) return;
    this.busy = true;
    try {
      const done = await api.delete(asking.target);
      this.asking = null;
      this.toasts.show({ text: deletedText(asking.what, done.removed), token: done.undo });
    } catch (e) {
      this.error = errorMessage(e);
      this.asking = null;
    } finally {
      this.busy = false;
    }
  }

  /** Puts back what the toast's delete took. */
  async undo(): Promise<void> {
    const token = this.toast?.token;
    if (token === null || token === undefined) return;
    try {
      const restored = await api.undoDelete(token);
      this.toasts.show({ text: `Restored ${removedText(restored)}`, token: null });
    } catch (e) {
      this.toasts.clear();
      this.error = errorMessage(e);
    }
  }

  dismiss(): void {
    this.toasts.clear();
  }
}

export const deletion = new DeletionStore();
