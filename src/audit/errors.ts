import { UmeshError } from '../errors.js'

/** the audit log cannot be read or written */
export class AuditError extends UmeshError {
  override readonly name = 'AuditError'
}

/** `umesh audit --verify` found an entry that is not as it was written */
export class AuditVerifyError extends UmeshError {
  override readonly name = 'AuditVerifyError'
}
