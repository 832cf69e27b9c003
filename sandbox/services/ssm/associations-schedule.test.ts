import { describe, expect, it } from '@jest/globals';
import { parseSchedule, ticks } from './associations-schedule.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** A Monday, midnight UTC. */
const MONDAY = Date.parse('2026-11-02T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000Z', 'Z');

describe('parseSchedule accepts what associations run (the user guide\'s examples and their siblings)', () => {
  it.each([
    ['rate(30 minutes)', { kind: 'rate', intervalMs: 30 * MINUTE }],
    ['rate(1 hour)', { kind: 'rate', intervalMs: HOUR }],
    ['rate(5 hours)', { kind: 'rate', intervalMs: 5 * HOUR }],
    ['rate(1 day)', { kind: 'rate', intervalMs: DAY }],
    ['rate(15 days)', { kind: 'rate', intervalMs: 15 * DAY }],
    ['rate(30 days)', { kind: 'rate', intervalMs: 30 * DAY }],
    ['cron(0/30 * * * ? *)', { kind: 'cron', minutes: [0, 30] }],
    ['cron(0 0/1 * * ? *)', { kind: 'cron', minutes: [0], hours: Array.from({ length: 24 }, (_, i) => i) }],
    ['cron(0 0/4 * * ? *)', { kind: 'cron', minutes: [0], hours: [0, 4, 8, 12, 16, 20] }],
    ['cron(0 0/12 * * ? *)', { kind: 'cron', minutes: [0], hours: [0, 12] }],
    ['cron(15 13 ? * * *)', { kind: 'cron', minutes: [15], hours: [13] }],
    ['cron(15 13 ? * MON *)', { kind: 'cron', minutes: [15], hours: [13], weekday: 1 }],
    ['cron(0 2 ? * SUN *)', { kind: 'cron', minutes: [0], hours: [2], weekday: 0 }],
    ['cron(0 0 ? * THU#2 *)', { kind: 'cron', minutes: [0], hours: [0], weekday: 4, nth: 2 }],
    ['cron(0 0 2 ? * SUN *)', { kind: 'cron', minutes: [0], hours: [2], weekday: 0 }],
  ])('%s', (expression, expected) => {
    expect(parseSchedule(expression)).toMatchObject(expected);
  });
});

describe('parseSchedule refuses with InvalidSchedule', () => {
  it.each([
    ['rate(29 minutes)', 'faster than 30 minutes'],
    ['rate(31 days)', '31 days or more'],
    ['rate(1 hours)', 'plural unit for 1'],
    ['rate(2 hour)', 'singular unit for 2'],
    ['rate(0 days)', 'zero'],
    ['rate(1 week)', 'an unknown unit'],
    ['cron(0/15 * * * ? *)', 'every 15 minutes'],
    ['cron(0 0/3 * * ? *)', 'every 3 hours'],
    ['cron(0 2 1 * ? *)', 'a day of the month'],
    ['cron(0 2 ? 1 MON *)', 'a month'],
    ['cron(0 2 ? * MON 2027)', 'a year'],
    ['cron(0 2 * * MON *)', 'day of month and day of week both set'],
    ['cron(0 2 ? * ? *)', 'both ?'],
    ['cron(5 0 2 ? * SUN *)', 'seconds other than 0'],
    ['cron(0 2 ? * FUNDAY *)', 'an unknown day'],
    ['cron(0 2 ? *)', 'too few fields'],
    ['at(2026-12-01T00:00:00)', 'a single run'],
    ['every day', 'no form at all'],
  ])('%s (%s)', (expression) => {
    expect(() => parseSchedule(expression)).toThrow(expect.objectContaining({ code: 'InvalidSchedule' }));
  });
});

describe('ticks', () => {
  it.each([
    ['rate(1 hour)', MONDAY + 10 * MINUTE, MONDAY + 10 * MINUTE, MONDAY + 3 * HOUR, 0, ['2026-11-02T01:10Z', '2026-11-02T02:10Z']],
    ['rate(30 minutes)', MONDAY, MONDAY + 30 * MINUTE, MONDAY + HOUR, 0, ['2026-11-02T01:00Z']],
    ['cron(0/30 * * * ? *)', 0, MONDAY, MONDAY + HOUR, 0, ['2026-11-02T00:30Z', '2026-11-02T01:00Z']],
    ['cron(15 13 ? * * *)', 0, MONDAY, MONDAY + 2 * DAY, 0, ['2026-11-02T13:15Z', '2026-11-03T13:15Z']],
    ['cron(0 2 ? * SUN *)', 0, MONDAY, MONDAY + 14 * DAY, 0, ['2026-11-08T02:00Z', '2026-11-15T02:00Z']],
    ['cron(0 0 ? * THU#2 *)', 0, MONDAY, MONDAY + 40 * DAY, 0, ['2026-11-12T00:00Z', '2026-12-10T00:00Z']],
    ['cron(0 0 ? * THU#2 *)', 0, MONDAY, MONDAY + 40 * DAY, 3, ['2026-11-15T00:00Z']],
  ])('%s anchored at %p in (%p, %p], offset %p days', (expression, anchor, from, to, offset, expected) => {
    expect(ticks(parseSchedule(expression), anchor, from, to, offset).map(iso)).toEqual(expected);
  });

  it('looks back at most two months for a cron, however far the clock was pushed', () => {
    const fired = ticks(parseSchedule('cron(0 2 ? * SUN *)'), 0, MONDAY - 365 * DAY, MONDAY);
    expect(fired.length).toBeLessThanOrEqual(9);
    expect(fired.at(-1)).toBe(MONDAY - DAY + 2 * HOUR);
  });
});
