// Drive one unmodified Node SDK against Safar: one call of each kind, then a burst.
// Usage: node send.cjs <segment-node|analytics-node|rudder-node> <host> <writeKey> <prefix> <burst>
// Prints one JSON line {"errors": [...]} when done; exits 1 when the SDK reported an error.
'use strict'

const [, , sdk, host, writeKey, prefix, burstText] = process.argv
const burst = Number(burstText || '0')
const errors = []
const user = `${prefix}-u1`
const anon = `${prefix}-a1`

function calls () {
  const out = [
    ['identify', {
      userId: user,
      anonymousId: anon,
      traits: { email: `${prefix}@example.com`, name: 'Sara' },
      messageId: `${prefix}-identify`
    }],
    ['track', {
      userId: user,
      event: 'Order Completed',
      properties: { total: 120.5, currency: 'IRR' },
      context: { channel: 'email' },
      messageId: `${prefix}-track`
    }],
    ['page', { userId: user, name: 'Home', properties: { path: '/' }, messageId: `${prefix}-page` }],
    ['screen', { userId: user, name: 'Cart', messageId: `${prefix}-screen` }],
    ['group', {
      userId: user,
      groupId: `${prefix}-home`,
      traits: { type: 'household', name: 'Ahmadi' },
      messageId: `${prefix}-group`
    }],
    ['alias', { userId: user, previousId: `${prefix}-old`, messageId: `${prefix}-alias` }]
  ]
  for (let i = 0; i < burst; i++) {
    out.push(['track', {
      userId: user,
      event: 'Scrolled',
      properties: { i, pad: 'p'.repeat(200) },
      messageId: `${prefix}-burst-${i}`
    }])
  }
  return out
}

async function segmentNode () {
  const { Analytics } = require('@segment/analytics-node')
  const client = new Analytics({ writeKey, host, maxEventsInBatch: 40, flushInterval: 200 })
  client.on('error', (err) => errors.push(String(err && (err.reason || err.message || err))))
  for (const [method, params] of calls()) client[method](params)
  await client.closeAndFlush({ timeout: 60000 })
}

async function legacyNode () {
  const Analytics = require('analytics-node')
  const client = new Analytics(writeKey, { host, flushAt: 40, flushInterval: 200 })
  const pending = []
  for (const [method, params] of calls()) {
    pending.push(new Promise((resolve) => {
      client[method](params, (err) => {
        if (err) errors.push(String(err.message || err))
        resolve()
      })
    }))
  }
  await client.flush()
  await Promise.all(pending)
}

async function rudderNode () {
  const Analytics = require('@rudderstack/rudder-sdk-node')
  const client = new Analytics(writeKey, {
    dataPlaneUrl: host,
    flushAt: 40,
    flushInterval: 200,
    logLevel: 'error',
    errorHandler: (err) => errors.push(String(err && (err.message || err)))
  })
  for (const [method, params] of calls()) client[method](params)
  await client.flush()
  // flush() drains what is queued; wait until nothing is in flight either.
  for (let i = 0; i < 600 && (client.queue.length || client.flushing || client.nextFlush); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    if (client.queue.length) await client.flush()
  }
}

const drivers = { 'segment-node': segmentNode, 'analytics-node': legacyNode, 'rudder-node': rudderNode }
drivers[sdk]().then(() => {
  console.log(JSON.stringify({ errors }))
  process.exit(errors.length ? 1 : 0)
}, (err) => {
  console.log(JSON.stringify({ errors: [...errors, String(err && (err.stack || err))] }))
  process.exit(1)
})
