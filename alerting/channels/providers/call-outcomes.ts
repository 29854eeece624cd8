// What became of a voice notification call, in each provider's own codes: answered (someone picked up),
// not answered (busy, no answer, rejected, powered off, unreachable: a failed delivery that fails over)
// or not known yet (still ringing, no record yet).
import type { DeliveryReport } from './provider.ts';

// Alibaba Cloud Dyvmsapi call states, as QueryCallDetailByCallId's Data.state and the VoiceReport
// message's status_code carry them. Codes and meanings from "运营商回执错误码"
// (https://help.aliyun.com/document_detail/55085.html) and "呼叫状态码", the single-call intermediate
// states (https://help.aliyun.com/document_detail/112804.htm).
const ALIYUN_ANSWERED = new Set([
  '200000', // 用户听完语音: heard it to the end
  '200001', // 用户提前挂机未完整收听: picked up, hung up before the end
  '200102', // 被叫接听: answered, the call is still going on
]);
const ALIYUN_IN_PROGRESS = new Set([
  '200101', // 开始呼叫
  '200201', // 被叫响铃
]);
const ALIYUN_MEANING: Record<string, string> = {
  '200002': 'busy',
  '200003': 'rang, not answered',
  '200004': 'invalid number',
  '200005': 'unreachable or rejected',
  '200007': 'out of service area',
  '200010': 'powered off',
  '200011': 'suspended',
};

/** An Alibaba call state: empty while the provider has no record of the call's end yet. */
export function aliyunCallOutcome(state: string | undefined): DeliveryReport {
  if (!state || ALIYUN_IN_PROGRESS.has(state)) return { state: 'pending', code: state ?? null };
  if (ALIYUN_ANSWERED.has(state)) return { state: 'delivered', code: state };
  const meaning = ALIYUN_MEANING[state];
  return { state: 'failed', code: state, ...(meaning ? { detail: meaning } : {}) };
}

// Tencent Cloud VMS "语音通知状态通知" (voiceprompt_callback.result, https://cloud.tencent.com/document/product/1128/51534):
// "0" answered, "1" not answered, "2" call failed.
const TENCENT_MEANING: Record<string, string> = { '1': 'not answered', '2': 'call failed' };

export function tencentCallOutcome(result: string | undefined): DeliveryReport {
  if (result === undefined) return { state: 'pending', code: null };
  if (result === '0') return { state: 'delivered', code: result };
  const meaning = TENCENT_MEANING[result];
  return { state: 'failed', code: result, ...(meaning ? { detail: meaning } : {}) };
}
