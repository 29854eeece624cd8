// What alerting needs to know about a resident: the community (for staff rooms and policy), the name and
// home for messages, and whom to call. A small interface, so escalation does not depend on how the
// registry stores it.
import { formatHomePath, type Contact, type Registry } from '../../registry/index.ts';

/**
 * How a person can be told: the registry's contact channels, and the work apps (WeCom, DingTalk) that
 * only a person with an account can choose, since only they keep a user id there.
 */
export type PersonChannel = Contact['channels'][number] | 'wecom' | 'dingtalk';

/** A contact as escalation sees it: the registry's record, with the choices of the person behind it. */
export interface AlertContact extends Omit<Contact, 'channels'> {
  channels: readonly PersonChannel[];
  /** Their user id in the community's WeCom / DingTalk organisation, where they gave one. */
  wecomUserId?: string | null;
  dingtalkUserId?: string | null;
  /** The person's own language, where they chose one. */
  language?: 'zh-CN' | 'en';
  /** When they are told of less than an alarm only on the family page. */
  quietHours?: { from: string; to: string; timeZone: string } | null;
}

export interface AlertResident {
  id: string;
  name: string;
  communityId: string;
  /** Human-readable home, e.g. "新嘉街道 / 阳光社区 / 3幢 / 2-301". */
  home: string;
  language: 'zh-CN' | 'en';
  /** In escalation order, 1 first. */
  contacts: readonly AlertContact[];
}

export interface ResidentDirectory {
  /** undefined for a resident the registry does not know (the alert still opens). */
  resident(residentId: string): Promise<AlertResident | undefined>;
  /**
   * The resident's community when it is known without asking a database (the rules' registry context
   * holds it), so that opening an alert waits on no read; undefined to ask `resident`.
   */
  communityOf?(residentId: string): string | undefined;
}

/** Residents known in memory: their community, looked up without a database read. */
export interface KnownResidents {
  resident(residentId: string): { home: { communityId: string } } | undefined;
}

export function registryDirectory(
  registry: Pick<Registry, 'getResident'>,
  known?: KnownResidents,
): ResidentDirectory {
  return {
    communityOf: (residentId) => known?.resident(residentId)?.home.communityId,
    async resident(residentId) {
      // Awaited: the registry's reads are asynchronous where its store is (issue 11).
      const r = await registry.getResident(residentId);
      if (!r) return undefined;
      return {
        id: r.id,
        name: r.name,
        communityId: r.home.communityId,
        home: formatHomePath(r.home),
        language: r.language,
        contacts: r.contacts,
      };
    },
  };
}
