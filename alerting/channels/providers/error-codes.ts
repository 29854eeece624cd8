// Which provider error codes are worth retrying within the retry time (throttling, the provider's own
// trouble) and which are final (a wrong number, an unapproved template, no balance, bad credentials):
// a final error moves on to the person's next channel at once instead of waiting out the retry time.
// Codes from the providers' published error code lists.

// Alibaba Cloud (Dysmsapi, Dyvmsapi and the RPC gateway). isv.BUSINESS_LIMIT_CONTROL is the per-number
// minute/hour flow control; the day and month quotas (isv.DAY_LIMIT_CONTROL, isv.MONTH_LIMIT_CONTROL)
// cannot clear within minutes, so they are final.
const ALIYUN_RETRYABLE = [
  /^isv\.BUSINESS_LIMIT_CONTROL$/,
  /^Throttling(\..*)?$/,
  /^isp\.SYSTEM_ERROR$/,
  /^isp\.GATEWAY_ERROR$/,
  /^ServiceUnavailable$/,
  /^InternalError$/,
  /^SignatureNonceUsed$/,
];

// Tencent Cloud API 3.0 (SMS 2021-01-11, VMS 2020-09-02). LimitExceeded.* are frequency limits, except
// the daily ones; InternalError.* are the service's own failures (InternalError.Timeout says "retry").
const TENCENT_RETRYABLE = [
  /^LimitExceeded(\.(?!.*Daily).*)?$/,
  /^RequestLimitExceeded(\..*)?$/,
  /^InternalError(\..*)?$/,
  /^ResourceUnavailable(\..*)?$/,
];

// WeCom (企业微信) global error codes, "全局错误码" (https://developer.work.weixin.qq.com/document/path/90313):
// -1 系统繁忙 (retry, at most 3 times), 45009 接口调用超过限制, 45033 接口并发调用超过限制. 40014 不合法的
// access_token and 42001 access_token已过期 mean: fetch a new token and send again. Everything else (60111
// UserID不存在, 81013 UserID全部非法或无权限, 40056 不合法的agentid, 301002 token of another app, 40001 bad
// secret) cannot clear by waiting: fail over.
const WECOM_RETRYABLE = new Set([-1, 45009, 45033]);
// DingTalk (钉钉) server API codes (https://open.dingtalk.com/document/orgapp/server-api-error-codes-1): -1
// 系统繁忙; the 900xx family are its call-frequency limits (90002, 90006, 90018 ...). 40014 不合法的
// access_token and 42001 access_token超时: a new token. 88 鉴权异常 carries a sub_code: tried once more with a
// new token, then final (no permission does not clear by waiting). 33012 无效的USERID, 60121 找不到该用户: final.
const DINGTALK_RETRYABLE = (code: number) => code === -1 || (code >= 90000 && code < 91000);

/** Codes after which a fresh access token should be fetched and the send tried again at once. */
export const TOKEN_EXPIRED = new Set([40014, 42001]);

export function wecomRetryable(code: number): boolean {
  return WECOM_RETRYABLE.has(code);
}

export function dingtalkRetryable(code: number): boolean {
  return DINGTALK_RETRYABLE(code);
}

export function aliyunRetryable(code: string): boolean {
  return ALIYUN_RETRYABLE.some((re) => re.test(code));
}

export function tencentRetryable(code: string): boolean {
  return TENCENT_RETRYABLE.some((re) => re.test(code));
}

/** HTTP answers without a usable body: the gateway's or a proxy's trouble is worth another try. */
export function httpRetryable(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}
