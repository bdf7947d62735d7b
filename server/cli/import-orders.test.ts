import { describe, expect, it } from 'vitest';
import { csvFields, ImportError, readHeader, toOrder } from './import-orders.js';

describe('import-orders: reading the file', () => {
  it('splits CSV fields, quotes and doubled quotes included', () => {
    expect(csvFields('a,b , c')).toEqual(['a', 'b', 'c']);
    expect(csvFields('"x, y","say ""hi""",')).toEqual(['x, y', 'say "hi"', '']);
    expect(() => csvFields('"open')).toThrow(ImportError);
  });

  it('finds the columns by name, in any order, with or without skus; names a missing one', () => {
    const h = readHeader('\uFEFFcurrency,Order_ID,customer_id,amount,date');
    expect(h).toEqual({ index: { order_id: 1, customer_id: 2, date: 4, amount: 3, currency: 0 }, skus: null });
    expect(readHeader('order_id,customer_id,date,amount,currency,skus').skus).toBe(5);
    expect(() => readHeader('order_id,customer_id,amount,currency')).toThrow(/no date column/);
  });

  it('turns a row into an order: major units to minor, a day to its UTC midnight, skus split on |', () => {
    const h = readHeader('order_id,customer_id,date,amount,currency,skus');
    expect(toOrder(csvFields('o-1,c-9,2024-11-11,129.9,cny,TEA-01|CUP-02'), h)).toEqual({
      orderId: 'o-1', viewerId: 'c-9', amount: 12_990, currency: 'CNY', at: '2024-11-11T00:00:00.000Z', items: [{ sku: 'TEA-01' }, { sku: 'CUP-02' }],
    });
    expect(toOrder(csvFields('o-2,c-9,2024-11-11T20:15:00+08:00,1500,JPY,'), h)).toEqual({ orderId: 'o-2', viewerId: 'c-9', amount: 1500, currency: 'JPY', at: '2024-11-11T12:15:00.000Z' });
  });

  it('names the column of a bad row', () => {
    const h = readHeader('order_id,customer_id,date,amount,currency');
    expect(() => toOrder(csvFields('o,c,2024-01-01,12.345,CNY'), h)).toThrow(/amount "12.345"/);
    expect(() => toOrder(csvFields('o,c,2024-01-01,1.5,JPY'), h)).toThrow(/at most 0 decimals/);
    expect(() => toOrder(csvFields('o,c,2024-01-01,-3,CNY'), h)).toThrow(/amount/);
    expect(() => toOrder(csvFields('o,c,yesterday,3,CNY'), h)).toThrow(/date "yesterday"/);
    expect(() => toOrder(csvFields('o,c,2024-01-01,3,XYZ1'), h)).toThrow(/currency/);
    expect(() => toOrder(csvFields(',c,2024-01-01,3,CNY'), h)).toThrow(/order_id is empty/);
    expect(() => toOrder(csvFields('o,,2024-01-01,3,CNY'), h)).toThrow(/customer_id is empty/);
  });
});
