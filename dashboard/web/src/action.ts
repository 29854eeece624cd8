// A view's actions that talk to the server one at a time: buttons are disabled while one runs, and its
// failure is kept to show.
import { ref, type Ref } from 'vue';
import { errorText } from './load.ts';

export interface Actions {
  busy: Ref<boolean>;
  error: Ref<string | null>;
  /** Runs the action, clearing the last error; says whether it succeeded. */
  run(action: () => Promise<unknown>): Promise<boolean>;
}

export function useActions(): Actions {
  const busy = ref(false);
  const error = ref<string | null>(null);
  async function run(action: () => Promise<unknown>): Promise<boolean> {
    busy.value = true;
    error.value = null;
    try {
      await action();
      return true;
    } catch (err) {
      error.value = errorText(err);
      return false;
    } finally {
      busy.value = false;
    }
  }
  return { busy, error, run };
}
