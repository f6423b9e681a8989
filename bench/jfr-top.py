#!/usr/bin/env python3
"""Summarises execution samples of a JFR recording per thread group and top frames.

Usage: jfr print --events jdk.ExecutionSample --stack-depth 40 bench.jfr | bench/jfr-top.py [thread-substring ...]
Prints, for the threads whose name contains one of the substrings (default: all), the sample count per thread,
the top self frames, and the top "our code" frames (io.github.cohortsync) anywhere on the stack.
"""
import collections
import re
import sys

filters = sys.argv[1:]
threads = collections.Counter()
self_frames = collections.Counter()
ours = collections.Counter()
inclusive = collections.Counter()
total = 0
sample = None


def flush(s):
    global total
    if not s or not s['thread']:
        return
    if filters and not any(f in s['thread'] for f in filters):
        return
    total += 1
    name = re.sub(r'-\d+(-\d+)*$', '', s['thread'])
    threads[name] += 1
    if s['frames']:
        self_frames[s['frames'][0]] += 1
    seen = set()
    for f in s['frames']:
        key = f
        if key in seen:
            continue
        seen.add(key)
        inclusive[key] += 1
    for f in s['frames']:
        if 'io.github.cohortsync' in f:
            ours[f] += 1
            break


for line in sys.stdin:
    line = line.rstrip()
    if line.startswith('jdk.ExecutionSample'):
        flush(sample)
        sample = {'thread': None, 'frames': []}
    elif sample is not None:
        m = re.match(r'\s*sampledThread = "(.*)" \(', line)
        if m:
            sample['thread'] = m.group(1)
            continue
        m = re.match(r'\s+([\w$.<>]+\(.*?\))\s+line:', line)
        if m:
            sample['frames'].append(m.group(1))
flush(sample)

print(f'{total} samples')
print('\n== samples per thread')
for k, v in threads.most_common(15):
    print(f'{v:7d} {100.0 * v / total:5.1f}%  {k}')
print('\n== top self frames')
for k, v in self_frames.most_common(25):
    print(f'{v:7d} {100.0 * v / total:5.1f}%  {k}')
print('\n== top inclusive frames (within the sampled stack depth)')
for k, v in inclusive.most_common(40):
    print(f'{v:7d} {100.0 * v / total:5.1f}%  {k}')
print('\n== innermost frame of our code')
for k, v in ours.most_common(20):
    print(f'{v:7d} {100.0 * v / total:5.1f}%  {k}')
