// The topic scheme: a device's topics carry its id, and parseTopic recognises only exact Anju v1 topics,
// which is what keeps a device to its own topics.
import { describe, expect, it } from 'vitest';
import { DOWNLINK_CHANNELS, UPLINK_CHANNELS, isUplink, parseTopic, topicFor } from './topics.ts';

describe('topicFor and parseTopic', () => {
  it('round-trip every channel', () => {
    for (const channel of [...UPLINK_CHANNELS, ...DOWNLINK_CHANNELS]) {
      expect(topicFor('wb-0001', channel)).toBe(`anju/v1/wb-0001/${channel}`);
      expect(parseTopic(topicFor('wb-0001', channel))).toEqual({ deviceId: 'wb-0001', channel });
    }
  });

  it('accept device ids with letters, digits, ".", "_" and "-" of 3 to 64 characters', () => {
    for (const id of ['abc', 'W-0001', 'gas_sensor.kitchen-2', '0ab', 'a'.repeat(64)]) {
      expect(parseTopic(`anju/v1/${id}/telemetry`)?.deviceId, id).toBe(id);
    }
  });
});

describe('parseTopic refuses', () => {
  it.each([
    ['another protocol version', 'anju/v2/wb-0001/telemetry'],
    ['another root', 'other/v1/wb-0001/telemetry'],
    ['a root in another case', 'Anju/v1/wb-0001/telemetry'],
    ['an extra level', 'anju/v1/wb-0001/telemetry/extra'],
    ['a missing level', 'anju/v1/wb-0001'],
    ['a leading slash', '/anju/v1/wb-0001/telemetry'],
    ['a trailing slash', 'anju/v1/wb-0001/telemetry/'],
    ['an unknown channel', 'anju/v1/wb-0001/firmware'],
    ['an empty topic', ''],
    ['a device id of 2 characters', 'anju/v1/ab/telemetry'],
    ['a device id of 65 characters', `anju/v1/${'a'.repeat(65)}/telemetry`],
    ['a device id starting with "-"', 'anju/v1/-wb1/telemetry'],
    ['a device id starting with "."', 'anju/v1/.wb1/telemetry'],
    ['a device id with a space', 'anju/v1/wb 0001/telemetry'],
    ['a device id with non-ASCII letters', 'anju/v1/手环-0001/telemetry'],
    ['an empty device id', 'anju/v1//telemetry'],
    ['a "+" wildcard for the device', 'anju/v1/+/telemetry'],
    ['a "+" wildcard for the channel', 'anju/v1/wb-0001/+'],
    ['a "#" wildcard', 'anju/v1/wb-0001/#'],
    ['a "#" wildcard for everything', '#'],
    ['a wildcard version', 'anju/+/wb-0001/telemetry'],
    ['a wildcard inside the device id', 'anju/v1/wb-+/telemetry'],
    ['a $SYS topic', '$SYS/broker/clients'],
  ])('%s', (_what, topic) => {
    expect(parseTopic(topic)).toBeUndefined();
  });
});

describe('isUplink', () => {
  it('tells device-to-Anju channels from Anju-to-device channels', () => {
    expect(UPLINK_CHANNELS.every(isUplink)).toBe(true);
    expect(DOWNLINK_CHANNELS.some(isUplink)).toBe(false);
  });
});
