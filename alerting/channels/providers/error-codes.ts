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
