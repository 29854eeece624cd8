// What became of Tencent Cloud voice notification calls, as Tencent pushes it. VMS API 3.0 (2020-09-02)
// has no API to pull a call's status (its actions are SendCodeVoice and SendTtsVoice); Tencent reports
// each call's end to the event callback URL set in the VMS console, as "语音通知状态通知"
// (https://cloud.tencent.com/document/product/1128/51534):
//
//   POST <callback URL>  {"voiceprompt_callback": {"result": "0", "callid": "...", "mobile": "13...",
//                         "nationcode": "86", "accept_time": "1470197211", "start_calltime": ...,
//                         "end_calltime": ..., "fee": "1", "call_from": ""}}
//   answer               {"result": 0, "errmsg": "OK"}
//
// result "0" answered, "1" not answered, "2" call failed. The callback route (dashboard/plugins/
// provider-callbacks.ts) hands the body here; TencentVoice.report() reads it back by call id. Outcomes
// are kept in the alerts database (tencent_call_reports), not in memory: in a cluster Tencent's push
// reaches any one process, and the one that placed the call must see it, or it would count the call
// unanswered and fail over needlessly.
import { z } from 'zod';
import type { Sql } from '../../../database/sql.ts';

export const VoicepromptCallback = z.object({
  voiceprompt_callback: z.object({
    result: z.string().max(8),
    callid: z.string().min(1).max(128),
    mobile: z.string().max(32).optional(),
    nationcode: z.string().max(8).optional(),
    accept_time: z.string().max(16).optional(),
    start_calltime: z.string().max(16).optional(),
    end_calltime: z.string().max(16).optional(),
    fee: z.string().max(8).optional(),
    call_from: z.string().max(32).optional(),
  }),
});
export type VoicepromptCallback = z.infer<typeof VoicepromptCallback>;

/** How long an outcome is kept: a call is followed for minutes; older ones are deleted as new ones come. */
export const KEPT_MS = 24 * 3_600_000;

export class TencentCallReports {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps the result of the call a callback reports (a repeated push replaces it). */
  async receive(body: VoicepromptCallback): Promise<void> {
    const { callid, result } = body.voiceprompt_callback;
    const at = this.now();
    await this.sql.run(
      `INSERT INTO tencent_call_reports (call_id, result, received_at) VALUES (?, ?, ?)
       ON CONFLICT (call_id) DO UPDATE SET result = excluded.result, received_at = excluded.received_at`,
      [callid, result, at],
    );
    await this.sql.run('DELETE FROM tencent_call_reports WHERE received_at < ?', [at - KEPT_MS]);
  }

  /** The callback's `result` for this call, or undefined when none came yet (to any process). */
  async result(callId: string): Promise<string | undefined> {
    const row = await this.sql.one<{ result: string }>(
      'SELECT result FROM tencent_call_reports WHERE call_id = ?',
      [callId],
    );
    return row?.result;
  }
}
