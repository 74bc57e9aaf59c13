import { setDefaultTimeout } from 'bun:test'

// end-to-end tests start real servers, workers and Python processes
setDefaultTimeout(60_000)
