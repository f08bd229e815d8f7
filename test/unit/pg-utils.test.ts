import { describe, it, expect } from 'vitest';
import { queryText, sqlOperation } from '../../src/instrumentations/pg/utils';

describe('sqlOperation', () => {
  it.each([
    ['SELECT 1', 'SELECT'],
    ['select * from lessons where id = $1', 'SELECT'],
    ['Insert into lessons (title) values ($1)', 'INSERT'],
    ['update lessons set title = $1', 'UPDATE'],
    ['DeLeTe FROM lessons', 'DELETE'],
  ])('%j -> %s (verbs in any case)', (sql, op) => {
    expect(sqlOperation(sql)).toBe(op);
  });

  it('skips leading whitespace and semicolons', () => {
    expect(sqlOperation('  \n\t  SELECT 1')).toBe('SELECT');
    expect(sqlOperation(';\nUPDATE t SET a = 1')).toBe('UPDATE');
  });

  it('skips leading -- comments', () => {
    expect(sqlOperation('-- fetch the lesson\nSELECT * FROM lessons')).toBe('SELECT');
    expect(sqlOperation('-- one\n-- DELETE everything? no\n  INSERT INTO t VALUES (1)')).toBe('INSERT');
  });

  it('skips leading /* */ comments, including ones that mention verbs', () => {
    expect(sqlOperation('/* app:tutor route:/lessons */ SELECT 1')).toBe('SELECT');
    expect(sqlOperation('/* DELETE */ UPDATE t SET a = 1')).toBe('UPDATE');
    expect(sqlOperation('/*\n multi\n line\n*/\nDELETE FROM t')).toBe('DELETE');
  });

  it('an unterminated comment is other', () => {
    expect(sqlOperation('/* SELECT 1')).toBe('other');
    expect(sqlOperation('-- SELECT 1')).toBe('other');
  });

  it('skips leading parentheses', () => {
    expect(sqlOperation('(SELECT 1) UNION (SELECT 2)')).toBe('SELECT');
    expect(sqlOperation('((select 1))')).toBe('SELECT');
  });

  it('uses the main statement after a CTE list', () => {
    expect(sqlOperation('WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x')).toBe('INSERT');
    expect(sqlOperation('with moved as (delete from a returning *) insert into b select * from moved')).toBe('INSERT');
    expect(sqlOperation('WITH a AS (SELECT 1), b AS (SELECT 2) UPDATE t SET v = (SELECT 1 FROM a)')).toBe('UPDATE');
    expect(sqlOperation('WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM t) SELECT sum(n) FROM t')).toBe('SELECT');
    expect(sqlOperation('WITH x AS MATERIALIZED (SELECT 1) DELETE FROM t USING x')).toBe('DELETE');
    expect(sqlOperation('WITH x AS ((SELECT 1)) DELETE FROM t')).toBe('DELETE');
  });

  it('a CTE with no main statement is other', () => {
    expect(sqlOperation('WITH x AS (SELECT 1)')).toBe('other');
  });

  it('keywords inside strings and quoted identifiers do not count', () => {
    expect(sqlOperation(`WITH "select" AS (SELECT 'INSERT') UPDATE t SET note = 'DELETE'`)).toBe('UPDATE');
    expect(sqlOperation(`WITH x AS (SELECT ')' AS p) DELETE FROM t`)).toBe('DELETE');
    expect(sqlOperation(`'SELECT'`)).toBe('other');
  });

  it.each([
    'CREATE TABLE t (id int)',
    'ALTER TABLE t ADD COLUMN x int',
    'DROP TABLE t',
    'TRUNCATE t',
    'BEGIN',
    'COMMIT',
    'ROLLBACK',
    'COPY t FROM STDIN',
    'EXPLAIN SELECT 1',
    'VACUUM',
    'SET search_path TO app',
    'SHOW server_version',
    'VALUES (1)',
    'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE',
    'DO $$ BEGIN INSERT INTO t VALUES (1); END $$',
    'LISTEN lessons',
    '',
    '   ',
    '-- only a comment\n',
  ])('%j -> other', (sql) => {
    expect(sqlOperation(sql)).toBe('other');
  });

  it('a word that merely starts with a verb is not that verb', () => {
    expect(sqlOperation('SELECTED')).toBe('other');
    expect(sqlOperation('updates_log')).toBe('other');
  });

  it.each([undefined, null, 42, {}, { text: 'SELECT 1' }, ['SELECT 1'], Symbol('SELECT')])('non-string %s -> other', (value) => {
    expect(sqlOperation(value)).toBe('other');
  });

  it('handles very long statements without scanning forever', () => {
    const sql = `/* ${'x'.repeat(100_000)} */ SELECT 1`;
    expect(sqlOperation(sql)).toBe('other');
    const padded = `${' '.repeat(19_000)}INSERT INTO t VALUES (1)`;
    expect(sqlOperation(padded)).toBe('INSERT');
  });
});

describe('queryText', () => {
  it('returns a string as it is', () => {
    expect(queryText('SELECT 1')).toBe('SELECT 1');
    expect(queryText('')).toBe('');
  });

  it('returns the text of a query config', () => {
    expect(queryText({ text: 'SELECT $1::int', values: [1] })).toBe('SELECT $1::int');
    expect(queryText({ name: 'prepared', text: 'UPDATE t SET a = 1' })).toBe('UPDATE t SET a = 1');
  });

  it('returns undefined for a config without text, and for other values', () => {
    expect(queryText({})).toBeUndefined();
    expect(queryText(null)).toBeUndefined();
    expect(queryText(undefined)).toBeUndefined();
    expect(queryText(42)).toBeUndefined();
    expect(queryText(() => 'SELECT 1')).toBeUndefined();
  });

  it('composes with sqlOperation for the forms client.query accepts', () => {
    expect(sqlOperation(queryText('delete from t'))).toBe('DELETE');
    expect(sqlOperation(queryText({ text: 'insert into t values (1)' }))).toBe('INSERT');
    expect(sqlOperation(queryText({ text: 123 }))).toBe('other');
  });
});
