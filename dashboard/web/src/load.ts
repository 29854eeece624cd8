// Loading state for a page's data: what pages show while waiting, and which notice a refusal becomes.
import { ref, type Ref } from 'vue';
import { ApiError } from './api.ts';

export type LoadProblem = 'forbidden' | 'not_found' | 'error';

export interface Loaded<T> {
  data: Ref<T | null>;
  problem: Ref<LoadProblem | null>;
  message: Ref<string | null>;
  loading: Ref<boolean>;
  reload(): Promise<void>;
}

export function problemKind(err: unknown): LoadProblem {
  if (err instanceof ApiError && err.status === 403) return 'forbidden';
  if (err instanceof ApiError && err.status === 404) return 'not_found';
  return 'error';
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function useLoad<T>(fetcher: () => Promise<T>): Loaded<T> {
  const data = ref<T | null>(null) as Ref<T | null>;
  const problem = ref<LoadProblem | null>(null);
  const message = ref<string | null>(null);
  const loading = ref(false);
  async function reload(): Promise<void> {
    loading.value = true;
    try {
      data.value = await fetcher();
      problem.value = null;
      message.value = null;
    } catch (err) {
      problem.value = problemKind(err);
      message.value = errorText(err);
    } finally {
      loading.value = false;
    }
  }
  void reload();
  return { data, problem, message, loading, reload };
}
