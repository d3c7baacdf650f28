import { describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG, formatDuration, readRuntimeConfig } from '../src/lib/config'
import { base64Utf8, formatBytes, percent } from '../src/lib/format'

describe('runtime config', () => {
  it('falls back to defaults', () => {
    expect(readRuntimeConfig(undefined)).toEqual({
      semanticDefault: true, storageExpiry: 3600, privateFiles: true, sourceUrl: '', imprintUrl: '',
    })
    expect(readRuntimeConfig('nope')).toEqual(DEFAULT_CONFIG)
  })
  it('merges partial and ignores wrongly typed values', () => {
    expect(readRuntimeConfig({ semanticDefault: false })).toEqual({ ...DEFAULT_CONFIG, semanticDefault: false })
    expect(readRuntimeConfig({ storageExpiry: 600, semanticDefault: 'no' })).toEqual({ ...DEFAULT_CONFIG, storageExpiry: 600 })
    expect(readRuntimeConfig({ storageExpiry: -5 })).toEqual(DEFAULT_CONFIG)
    expect(readRuntimeConfig({ privateFiles: false, sourceUrl: 'https://example.org/src' })).toEqual({
      ...DEFAULT_CONFIG, privateFiles: false, sourceUrl: 'https://example.org/src',
    })
  })
  it('takes footer links only as http(s) URLs', () => {
    expect(readRuntimeConfig({ sourceUrl: 'javascript:alert(1)' }).sourceUrl).toBe('')
    expect(readRuntimeConfig({ imprintUrl: 'not a url' }).imprintUrl).toBe('')
    expect(readRuntimeConfig({ imprintUrl: 'http://example.org/imprint' }).imprintUrl).toBe('http://example.org/imprint')
  })
})

describe('formatting', () => {
  it('says durations in words', () => {
    expect(formatDuration(3600)).toBe('one hour')
    expect(formatDuration(7200)).toBe('two hours')
    expect(formatDuration(5400)).toBe('one hour 30 minutes')
    expect(formatDuration(600)).toBe('ten minutes')
    expect(formatDuration(86400 * 2)).toBe('two days')
    expect(formatDuration(45)).toBe('45 seconds')
    expect(formatDuration(0)).toBe('immediately')
  })
  it('formats bytes and percentages', () => {
    expect(formatBytes(532)).toBe('532 B')
    expect(formatBytes(53256)).toBe('53 kB')
    expect(formatBytes(1_500_000)).toBe('1.5 MB')
    expect(percent(1, 3)).toBe(33)
    expect(percent(5, 0)).toBe(0)
  })
  it('encodes file names as base64 of UTF-8', () => {
    expect(base64Utf8('test-image.jpg')).toBe('dGVzdC1pbWFnZS5qcGc=')
    expect(base64Utf8('ü')).toBe('w7w=')
  })
})
