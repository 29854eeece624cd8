import { describe, expect, it } from 'vitest';
import { ruleNameZh } from './message.ts';

describe('notification words', () => {
  it('names rules in Chinese by their family, most specific first', () => {
    expect(ruleNameZh('device.offline.heartbeat')).toBe('设备离线');
    expect(ruleNameZh('device.firmware')).toBe('设备异常');
    expect(ruleNameZh('gas.lpg')).toBe('燃气浓度超标');
    expect(ruleNameZh('absence.night_door')).toBe('夜间开门');
    expect(ruleNameZh('absence.not_back')).toBe('外出未归');
    expect(ruleNameZh('absence.routine')).toBe('长时间无活动');
    expect(ruleNameZh('something.new')).toBe('安全警报');
  });
});
