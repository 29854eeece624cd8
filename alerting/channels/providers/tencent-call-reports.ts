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
// provider-callbacks.ts) hands the body here; TencentVoice.report() reads it back by call id.
import { z } from 'zod';

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

/** Calls whose outcome is kept; a report waits at most minutes, so the oldest can go. */
const KEPT = 10_000;

export class TencentCallReports {
  private readonly results = new Map<string, string>();

  /** Keeps the result of the call a callback reports. */
  receive(body: VoicepromptCallback): void {
    const { callid, result } = body.voiceprompt_callback;
    this.results.delete(callid);
    this.results.set(callid, result);
    if (this.results.size > KEPT) this.results.delete(this.results.keys().next().value!);
  }

  /** The callback's `result` for this call, or undefined when none came yet. */
  result(callId: string): string | undefined {
    return this.results.get(callId);
  }
}
