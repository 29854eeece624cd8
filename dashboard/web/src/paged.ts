// A list the server hands out a page at a time (GET with q, limit, cursor; the answer's nextCursor):
// the rows loaded so far, whether more follow, and a search that starts the list again. An answer to an
// older search that arrives late is dropped, so the list always matches what the box says.
import { ref, type Ref } from 'vue';
import { api, withQuery } from './api.ts';
import { errorText } from './load.ts';

export type Query = Record<string, string | number | undefined>;

export interface PagedList<T> {
  rows: Ref<T[]>;
  /** Whether the server has more rows after these. */
  hasMore: Ref<boolean>;
  loading: Ref<boolean>;
  error: Ref<string | null>;
  /** Starts again from the first page with this query (q and filters). */
  reset(query: Query): Promise<void>;
  /** Appends the next page. */
  more(): Promise<void>;
}

export function usePagedList<T>(path: string, field: string, pageSize: number): PagedList<T> {
  const rows = ref<T[]>([]) as Ref<T[]>;
  const hasMore = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);
  let query: Query = {};
  let cursor: string | null = null;
  let generation = 0;

  async function load(fresh: boolean): Promise<void> {
    const mine = ++generation;
    loading.value = true;
    try {
      const answer = await api.get<Record<string, unknown>>(
        withQuery(path, { ...query, limit: pageSize, cursor: fresh ? undefined : (cursor ?? undefined) }),
      );
      if (mine !== generation) return;
      const page = (answer[field] ?? []) as T[];
      rows.value = fresh ? page : [...rows.value, ...page];
      cursor = (answer.nextCursor as string | null) ?? null;
      hasMore.value = cursor !== null;
      error.value = null;
    } catch (err) {
      if (mine === generation) error.value = errorText(err);
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  return {
    rows,
    hasMore,
    loading,
    error,
    reset(next) {
      query = next;
      cursor = null;
      return load(true);
    },
    more() {
      return cursor === null ? Promise.resolve() : load(false);
    },
  };
}

/** Every page of a list, for the few places that need all of it (the admin forms' choices). */
export async function fetchAll<T>(path: string, field: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const answer = await api.get<Record<string, unknown>>(withQuery(path, { limit: 1000, cursor }));
    out.push(...((answer[field] ?? []) as T[]));
    cursor = (answer.nextCursor as string | null) ?? undefined;
  } while (cursor !== undefined);
  return out;
}
