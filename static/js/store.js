// The phone's own storage (IndexedDB): drafts, the audits waiting to be sent, and photos.
// One database per person who signs in on this phone ("momento-user-<id>"), so that on a
// shared phone nobody sees, continues or sends someone else's audits.
const LEGACY_DB = "momento"; // before one database per person: taken over by whoever comes first
const STORES = ["drafts", "outbox", "photos"];
/** The signed-in person's id, from the page; empty when nobody is signed in. */
export const userId = document.querySelector('meta[name="momento-user"]')?.content ?? "";
let opening;

function open(name, version) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version);
    request.onupgradeneeded = () => {
      for (const store of STORES) {
        if (!request.result.objectStoreNames.contains(store)) request.result.createObjectStore(store);
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

const done = (transaction) => new Promise((resolve, reject) => {
  transaction.oncomplete = () => resolve();
  transaction.onerror = transaction.onabort = () => reject(transaction.error);
});

/** Move the records of the one database of earlier versions into `db`, then delete it. */
async function takeOverLegacy(db) {
  const known = indexedDB.databases ? await indexedDB.databases() : [{ name: LEGACY_DB }];
  if (!known.some((d) => d.name === LEGACY_DB)) return;
  const legacy = await open(LEGACY_DB, 1);
  try {
    const reading = legacy.transaction(STORES, "readonly");
    const records = STORES.map((name) => {
      const store = reading.objectStore(name);
      return [name, store.getAllKeys(), store.getAll()];
    });
    await done(reading);
    const writing = db.transaction(STORES, "readwrite");
    for (const [name, keys, values] of records) {
      keys.result.forEach((key, i) => writing.objectStore(name).put(values.result[i], key));
    }
    await done(writing);
  } finally {
    legacy.close();
  }
  indexedDB.deleteDatabase(LEGACY_DB); // only once copied; an old tab still holding it only delays it
}

function database() {
  if (!userId) return Promise.reject(new Error("nobody is signed in"));
  opening ??= open(`momento-user-${userId}`, 1).then(async (db) => {
    await takeOverLegacy(db).catch(() => {});
    return db;
  });
  return opening;
}

async function run(storeName, mode, work) {
  const db = await database();
  const transaction = db.transaction(storeName, mode);
  const result = work(transaction.objectStore(storeName));
  await done(transaction);
  return result?.result;
}

export const get = (store, key) => run(store, "readonly", (s) => s.get(key));
export const put = (store, key, value) => run(store, "readwrite", (s) => s.put(value, key));
export const remove = (store, key) => run(store, "readwrite", (s) => s.delete(key));
export const all = (store) => run(store, "readonly", (s) => s.getAll());
