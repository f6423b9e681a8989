/**
 * The outcome types every layer of a delivery sees: the sync engine retries on them, destinations throw them, and the
 * shared HTTP call path classifies answers into them.
 */
package io.github.cohortsync.connect.delivery;
