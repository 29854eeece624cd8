// Lists the admin forms choose from (residents, communities), loaded once per admin page and refreshed
// after a form adds something.
import { computed, ref } from 'vue';
import { api } from '../../api.ts';
import { fetchAll } from '../../paged.ts';
import type { HomeView, Resident } from '../../types.ts';

export const residents = ref<Resident[]>([]);
export const communities = ref<{ id: string; name: string }[]>([]);

export async function refreshDirectory(): Promise<void> {
  const [r, h] = await Promise.all([
    fetchAll<Resident>('/api/v1/residents', 'residents'),
    api.get<{ homes: HomeView[] }>('/api/v1/homes'),
  ]);
  residents.value = [...r].sort((a, b) => a.name.localeCompare(b.name));
  communities.value = [...new Map(h.homes.map((x) => [x.communityId, x.community]))].map(([id, name]) => ({
    id,
    name,
  }));
}

export function residentLabel(r: Resident): string {
  return `${r.name} · ${r.home.building}-${r.home.home}`;
}

/** The residents as a form offers them. */
export const residentOptions = computed(() =>
  residents.value.map((r) => ({ value: r.id, text: residentLabel(r) })),
);
