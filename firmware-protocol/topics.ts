// The versioned topic scheme. The device id is part of every topic so that the gateway can check, from
// the topic alone, that a device speaks only for itself.
//
//   anju/v1/{deviceId}/telemetry   uplink   periodic readings             QoS 1
//   anju/v1/{deviceId}/event       uplink   fall, SOS, alarms             QoS 1
//   anju/v1/{deviceId}/heartbeat   uplink   firmware, RSSI, uptime        QoS 0 or 1
//   anju/v1/{deviceId}/status      uplink   online/offline, retained, LWT QoS 1, retained
//   anju/v1/{deviceId}/config      downlink settings from Anju           QoS 1, retained
//   anju/v1/{deviceId}/error       downlink the gateway's answer to a refused message

export const PROTOCOL_VERSION = 'v1';
export const TOPIC_ROOT = `anju/${PROTOCOL_VERSION}`;

export const UPLINK_CHANNELS = ['telemetry', 'event', 'heartbeat', 'status'] as const;
export const DOWNLINK_CHANNELS = ['config', 'error'] as const;

export type UplinkChannel = (typeof UPLINK_CHANNELS)[number];
export type DownlinkChannel = (typeof DOWNLINK_CHANNELS)[number];
export type Channel = UplinkChannel | DownlinkChannel;

/** Device ids: 3-64 characters, letters, digits, '-', '_' and '.', so they are safe in topics and URLs. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;

export function topicFor(deviceId: string, channel: Channel): string {
  return `${TOPIC_ROOT}/${deviceId}/${channel}`;
}

export interface ParsedTopic {
  deviceId: string;
  channel: Channel;
}

/** Splits an Anju topic; returns undefined for anything that is not exactly `anju/v1/{id}/{channel}`. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'anju' || parts[1] !== PROTOCOL_VERSION) return undefined;
  const [, , deviceId, channel] = parts as [string, string, string, string];
  if (!DEVICE_ID_PATTERN.test(deviceId)) return undefined;
  if (
    !(UPLINK_CHANNELS as readonly string[]).includes(channel) &&
    !(DOWNLINK_CHANNELS as readonly string[]).includes(channel)
  ) {
    return undefined;
  }
  return { deviceId, channel: channel as Channel };
}

export function isUplink(channel: Channel): channel is UplinkChannel {
  return (UPLINK_CHANNELS as readonly string[]).includes(channel);
}
