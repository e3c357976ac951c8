#!/usr/bin/env node
// Removes dist/ before a build, so a moved or deleted source file leaves no
// stale compiled copy behind (the test runner runs every *.test.js it finds).
import { rmSync } from 'node:fs'

rmSync('dist', { recursive: true, force: true })
