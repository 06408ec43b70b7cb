import { describe, expect, it } from 'vitest';
import { decimalSum } from '../../shared/domain/decimal';

describe('decimalSum: what a sequence of DynamoDB ADDs would store', () => {
  it('FR-BILL-003: decimal fractions add exactly, unlike binary floats', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(decimalSum([0.1, 0.2])).toBe('0.3');
    expect(decimalSum(Array.from({ length: 10 }, () => 0.1))).toBe('1');
    expect(decimalSum([1e12, 0.000001])).toBe('1000000000000.000001');
  });

  it('FR-BILL-003: exponents, integers, zero, negatives and an empty list', () => {
    expect(decimalSum([1e-7, 2.5e-7])).toBe('0.00000035');
    expect(decimalSum([1e21, 1])).toBe('1000000000000000000001');
    expect(decimalSum([3, 4])).toBe('7');
    expect(decimalSum([0])).toBe('0');
    expect(decimalSum([-1.5, 0.5])).toBe('-1');
    expect(decimalSum([-0.5, 0.5])).toBe('0');
    expect(decimalSum([])).toBe('0');
  });

  it('FR-BILL-003: non-finite input is refused', () => {
    expect(() => decimalSum([Number.NaN])).toThrow(RangeError);
    expect(() => decimalSum([Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });
});
