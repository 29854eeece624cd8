// The providers' own worked examples, reproduced by the client's signers and by the independent checks
// the local stand-ins use: if either drifts from the published algorithm, these fail.
import { describe, expect, it } from 'vitest';
import { percentEncode, rpcSignature, stringToSign } from './aliyun-signature.ts';
import { tc3Sign } from './tc3-signature.ts';
import { aliyunExpectedSignature } from './testing/aliyun-server.ts';
import { tc3ExpectedSignature } from './testing/tencent-server.ts';

// Alibaba Cloud SMS "signature mechanism" example (SendSms, AccessKey secret "testSecret").
const ALIYUN_SMS_EXAMPLE = {
  AccessKeyId: 'testId',
  Action: 'SendSms',
  Format: 'XML',
  OutId: '123',
  PhoneNumbers: '15300000001',
  RegionId: 'cn-hangzhou',
  SignName: '阿里云短信测试专用',
  SignatureMethod: 'HMAC-SHA1',
  SignatureNonce: '45e25e9b-0a6f-4070-8c85-2956eda1b466',
  SignatureVersion: '1.0',
  TemplateCode: 'SMS_71390007',
  TemplateParam: '{"customer":"test"}',
  Timestamp: '2017-07-12T02:42:19Z',
  Version: '2017-05-25',
};
const ALIYUN_SMS_STRING_TO_SIGN =
  'GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26PhoneNumbers%3D15300000001' +
  '%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4' +
  '%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1' +
  '%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007' +
  '%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26Timestamp%3D2017-07-12T02%253A42%253A19Z' +
  '%26Version%3D2017-05-25';

// Tencent Cloud API 3.0 "Signature v3" example (CVM DescribeInstances in Guangzhou).
const TC3_EXAMPLE = {
  secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
  secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
  timestamp: 1551113065,
  payload: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
  headers: { 'content-type': 'application/json; charset=utf-8', host: 'cvm.tencentcloudapi.com' },
};

describe('Alibaba Cloud RPC signature', () => {
  it('reproduces the SMS documentation example: string to sign and signature', () => {
    expect(stringToSign('GET', ALIYUN_SMS_EXAMPLE)).toBe(ALIYUN_SMS_STRING_TO_SIGN);
    expect(rpcSignature('GET', ALIYUN_SMS_EXAMPLE, 'testSecret')).toBe('zJDF+Lrzhj/ThnlvIToysFRq6t4=');
    expect(aliyunExpectedSignature('GET', ALIYUN_SMS_EXAMPLE, 'testSecret')).toBe(
      'zJDF+Lrzhj/ThnlvIToysFRq6t4=',
    );
  });

  it('covers every parameter but Signature, so a changed phone number or template breaks it', () => {
    const signed = rpcSignature('POST', ALIYUN_SMS_EXAMPLE, 'testSecret');
    expect(rpcSignature('POST', { ...ALIYUN_SMS_EXAMPLE, Signature: 'x' }, 'testSecret')).toBe(signed);
    expect(
      rpcSignature('POST', { ...ALIYUN_SMS_EXAMPLE, PhoneNumbers: '15300000002' }, 'testSecret'),
    ).not.toBe(signed);
    expect(rpcSignature('GET', ALIYUN_SMS_EXAMPLE, 'testSecret')).not.toBe(signed); // the method is signed
  });

  it('percent-encodes as Alibaba documents: space %20, * %2A, ~ kept, UTF-8 bytes', () => {
    expect(percentEncode('a b*~+/')).toBe('a%20b%2A~%2B%2F');
    expect(percentEncode("!'()")).toBe('%21%27%28%29');
    expect(percentEncode('张')).toBe('%E5%BC%A0');
  });
});

describe('Tencent Cloud TC3-HMAC-SHA256', () => {
  const signed = tc3Sign({ ...TC3_EXAMPLE, service: 'cvm', method: 'POST' });

  it('reproduces the documentation example step by step', () => {
    expect(signed.canonicalRequest).toBe(
      'POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n' +
        'content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064',
    );
    expect(signed.stringToSign).toBe(
      'TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n' +
        '5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031',
    );
    expect(signed.signature).toBe('72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168');
    expect(signed.authorization).toBe(
      'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, ' +
        'SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
    );
  });

  it('is reproduced by the stand-in server from the received request alone', () => {
    expect(
      tc3ExpectedSignature({
        secretKey: TC3_EXAMPLE.secretKey,
        service: 'cvm',
        timestamp: TC3_EXAMPLE.timestamp,
        method: 'POST',
        query: '',
        signedHeaders: Object.entries(TC3_EXAMPLE.headers),
        payload: TC3_EXAMPLE.payload,
      }),
    ).toBe(signed.signature);
  });

  it('dates the credential in UTC: 1551113065 is 26 February in Beijing but 2019-02-25 in the scope', () => {
    expect(signed.stringToSign.split('\n')[2]).toBe('2019-02-25/cvm/tc3_request');
    const otherBody = tc3Sign({ ...TC3_EXAMPLE, payload: '{}', service: 'cvm', method: 'POST' });
    expect(otherBody.signature).not.toBe(signed.signature); // the body is signed
  });
});
