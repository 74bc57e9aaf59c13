/**
 * `format` checks for the JSON Schema validator. Draft 2020-12 treats `format` as an annotation
 * unless a validator opts in; we check the formats prompt forms actually offer (a date picker,
 * an email field) so a response cannot claim a format it does not have. Unknown formats pass.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const TIME = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(z|[+-]\d{2}:\d{2})$/i
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// deliberately loose (RFC 5321 in full is not worth it): one @, no spaces, a dot-free-or-dotted domain
const EMAIL = /^[^\s@]+@[^\s@]+$/
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i
const URI = /^[a-z][a-z0-9+.-]*:[^\s]*$/i
const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/

function isDate(s: string): boolean {
  const m = DATE.exec(s)
  if (!m) return false
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (month < 1 || month > 12 || day < 1) return false
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!
  return day <= days
}

function isTime(s: string): boolean {
  const m = TIME.exec(s)
  if (!m) return false
  const offset = m[5]!.toLowerCase()
  if (offset !== 'z' && (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4, 6)) > 59)) return false
  // 60 admits a leap second
  return Number(m[1]) <= 23 && Number(m[2]) <= 59 && Number(m[3]) <= 60
}

function isDateTime(s: string): boolean {
  const t = s.search(/[tT ]/)
  return t === 10 && isDate(s.slice(0, 10)) && isTime(s.slice(11))
}

function isIpv4(s: string): boolean {
  const parts = s.split('.')
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)
}

function isIpv6(s: string): boolean {
  if (s.includes('%')) return false
  let text = s
  // an embedded IPv4 tail counts as two groups
  const lastColon = text.lastIndexOf(':')
  let extra = 0
  if (text.includes('.')) {
    if (!isIpv4(text.slice(lastColon + 1))) return false
    text = text.slice(0, lastColon + 1) + '0'
    extra = 1
  }
  const halves = text.split('::')
  if (halves.length > 2) return false
  const groups = (h: string) => (h === '' ? [] : h.split(':'))
  const all = halves.flatMap(groups)
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return false
  const count = all.length + extra
  return halves.length === 2 ? count <= 7 : count === 8
}

const CHECKS: Record<string, (s: string) => boolean> = {
  date: isDate,
  time: isTime,
  'date-time': isDateTime,
  duration: (s) => DURATION.test(s),
  email: (s) => EMAIL.test(s),
  hostname: (s) => HOSTNAME.test(s),
  ipv4: isIpv4,
  ipv6: isIpv6,
  uri: (s) => URI.test(s),
  uuid: (s) => UUID.test(s),
}

/** Whether `value` satisfies a known `format`; unknown formats always do. */
export function matchesFormat(format: string, value: string): boolean {
  const check = CHECKS[format]
  return check ? check(value) : true
}
