package io.github.cohortsync.connect.destination;

import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.delivery.ContentRejectedException;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * Split retries around any destination: a diff page ({@code add_members}, {@code remove_members}) refused with a
 * {@link ContentRejectedException} is split in halves and each half sent, recursively, down to single members; a
 * member refused alone is a {@link Rejection} with the destination's message, everyone else is delivered. For k
 * members at fault in a page of n this costs at most about 2·k·log2(n) extra calls (one in 1000: 20), and at most
 * {@code maxExtraRequests} per sync: past that, the page fails with the refusal, as without splitting. Any other
 * failure (transient, or permanent such as 401, 403, 404) passes through untouched; a single-member page refused for
 * its content is a rejection.
 *
 * <p>Each part is a session of its own, page 1 of 1, with the session id {@code <session>.<page>.<path>} ({@code path}
 * the halves taken from the page: {@code 1} left, {@code 2} right, e.g. {@code s-7.3.121}), the same on every retry
 * of that part; so within any session id {@code page_count} still runs 1..{@code total_pages} once (Mixpanel: the
 * total is the number of messages of the session), and the split page's own session stays without that page, as
 * after a restart. Parts go one at a time in the page's member order, left half first; each has its own
 * content-derived idempotency key. {@code members} pages (full syncs) are not split: page 1 of a full sync replaces
 * the cohort at receivers and its last page ends an Iterable mirror, which no numbering of parts can keep.
 *
 * <p>A part failing transiently ends the call with that failure, so the caller's retry policy (backoff,
 * {@code Retry-After}, cancellation) applies to it as to any page; when the caller sends the same page object again,
 * the split resumes at that part: members already delivered or rejected are not sent again. Before each part the
 * split waits at its {@link CallGate} ({@link #pacedBy}): a {@code Retry-After} another page got and the request rate
 * hold the parts as they hold every try.
 */
public final class SplittingDestination extends WrappingDestination {
    private static final Logger log = LoggerFactory.getLogger(SplittingDestination.class);

    private final int maxExtraRequests;
    /** Extra calls splits made since {@link #newSync}. */
    private final AtomicInteger extraRequests = new AtomicInteger();
    /** Per page (the job's own page object) whose split stopped on a transient failure: where it stopped. */
    private final Map<Page, Split> stopped = Collections.synchronizedMap(new IdentityHashMap<>());
    /** What each part waits for before it goes; set once, by whoever sends through this destination. */
    private volatile CallGate gate = CallGate.OPEN;

    /** @param maxExtraRequests calls a sync may spend on splits ({@code split.max.requests}); 0 disables splitting */
    public SplittingDestination(Destination destination, int maxExtraRequests) {
        super(destination);
        this.maxExtraRequests = maxExtraRequests;
    }

    /**
     * Each part of a split waits at {@code gate} before it goes (the sender's hold and request rate); until then,
     * parts go at once.
     */
    public void pacedBy(CallGate gate) {
        this.gate = gate;
    }

    /** A new sync starts: its splits get {@code split.max.requests} extra calls again. */
    public void newSync() {
        extraRequests.set(0);
        stopped.clear();
    }

    /** Extra calls splits made since the sync started. */
    public int extraRequests() {
        return extraRequests.get();
    }

    @Override
    public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        Split split = stopped.remove(page);
        if (split == null) {
            try {
                return destination.send(page);
            } catch (ContentRejectedException refused) {
                if (maxExtraRequests <= 0 || page.action() == PageAction.MEMBERS || page.members().isEmpty()) {
                    throw refused;
                }
                split = new Split(page);
                split.refused(page, page.sessionId() + "." + page.pageNumber() + ".", refused);
            }
        }
        try {
            split.run();
        } catch (TransientDeliveryException e) {
            stopped.put(page, split);
            throw e;
        }
        log.info("Split {} after the destination refused it for its content: {} members rejected alone, {}"
                        + " delivered, {} extra calls", page.describe(), split.rejections.size(),
                page.members().size() - split.rejections.size(), split.extraCalls);
        return new DeliveryResult(split.rejections);
    }

    /** One page's split: the parts still to send, in member order, and the rejections so far. */
    private final class Split {
        private final Page page;
        /** The parts to send, each under its own session id. */
        private final Deque<Page> parts = new ArrayDeque<>();
        private final List<Rejection> rejections = new ArrayList<>();
        private int extraCalls;

        Split(Page page) {
            this.page = page;
        }

        /** Sends the parts left, one at a time; a transient failure leaves the failed part first. */
        void run() throws TransientDeliveryException, PermanentDeliveryException {
            while (!parts.isEmpty()) {
                Page part = parts.peekFirst();
                awaitGate();
                try {
                    DeliveryResult result = destination.send(part);
                    parts.removeFirst();
                    rejections.addAll(result.rejections());
                } catch (ContentRejectedException refused) {
                    parts.removeFirst();
                    refused(part, part.sessionId(), refused);
                }
            }
        }

        /** Waits for the part's turn; an interrupt (the sync is being cancelled) ends the split as cancelled. */
        private void awaitGate() {
            try {
                gate.awaitCall();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CancellationException("Split of " + page.describe() + " cancelled");
            }
        }

        /**
         * {@code part} was refused: one member is rejected; more are replaced by their halves, first in line, as the
         * sessions {@code <path>1} and {@code <path>2}.
         */
        void refused(Page part, String path, ContentRejectedException refused) throws PermanentDeliveryException {
            List<MembershipChange> members = part.members();
            if (members.size() == 1) {
                rejections.add(new Rejection(members.get(0), "refused by the destination when sent alone: "
                        + refused.getMessage(), refused.code()));
                return;
            }
            if (extraRequests.addAndGet(2) > maxExtraRequests) {
                throw new PermanentDeliveryException(refused.getMessage() + " (splitting " + page.describe()
                        + " to find the members at fault stopped: this sync made the " + maxExtraRequests
                        + " extra calls split.max.requests allows)");
            }
            extraCalls += 2;
            int half = members.size() / 2;
            parts.addFirst(part(path + "2", members.subList(half, members.size())));
            parts.addFirst(part(path + "1", members.subList(0, half)));
        }

        private Page part(String sessionId, List<MembershipChange> members) {
            return new Page(page.cohort(), page.action(), sessionId, 1, 1, members);
        }
    }
}
