package io.github.cohortsync.connect.destination;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.delivery.ContentRejectedException;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.http.RetryPolicy;
import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;

/** The rules of split retries, against a destination that refuses any call holding a member of a bad set. */
class SplittingDestinationTest {
    private static final CohortRef COHORT = new CohortRef("7", "Cohort 7", null, null);

    /** Refuses (400, for its content) every call with a bad member; can fail transiently or systemically instead. */
    private static final class Refusing implements Destination {
        final Set<String> bad = new HashSet<>();
        /** Calls made, each with its members' distinct ids. */
        final List<List<String>> calls = new ArrayList<>();
        /** Each call's session id and page number. */
        final List<String> sessions = new ArrayList<>();
        /** Members accepted, in the order accepted. */
        final List<String> delivered = new ArrayList<>();
        /** The number of the call (1-based) answered 503 once; 0 for none. */
        int transientAtCall;
        /** Answer every call 401. */
        boolean unauthorized;

        @Override
        public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
            List<String> ids = page.members().stream().map(MembershipChange::distinctId).toList();
            calls.add(ids);
            sessions.add(page.sessionId() + " " + page.pageNumber() + "/" + page.totalPages());
            if (unauthorized) {
                throw new PermanentDeliveryException("webhook POST failed with HTTP 401: bad key");
            }
            if (calls.size() == transientAtCall) {
                throw new TransientDeliveryException("webhook POST failed with HTTP 503", 503, -1, null);
            }
            if (ids.stream().anyMatch(bad::contains)) {
                throw new ContentRejectedException("webhook POST failed with HTTP 400: Invalid payload");
            }
            delivered.addAll(ids);
            return DeliveryResult.allAccepted();
        }

        @Override
        public void cancelInFlight() {
        }

        @Override
        public void close() {
        }
    }

    private final Refusing destination = new Refusing();

    private static Page page(PageAction action, int size) {
        List<MembershipChange> members = IntStream.range(0, size).mapToObj(i -> new MembershipChange(COHORT,
                "user-" + i, Action.ADD, null, null, null, null, Map.of(), 0L, "changes", 0, i)).toList();
        return new Page(COHORT, action, "session-1", 1, 1, members);
    }

    private static List<String> ids(int size) {
        return IntStream.range(0, size).mapToObj(i -> "user-" + i).toList();
    }

    private static List<String> rejected(DeliveryResult result) {
        return result.rejections().stream().map(r -> r.member().distinctId()).toList();
    }

    /** 2·k·⌈log2(n)⌉, the bound the split promises: at most ⌈log2(n)⌉ halvings deep, two calls each. */
    private static int bound(int k, int n) {
        return 2 * k * (int) Math.ceil(Math.log(n) / Math.log(2));
    }

    @Test
    void eachPartIsASessionOfOnePageNamedByItsPathInTheSplit() throws Exception {
        destination.bad.add("user-2");
        SplittingDestination splitting = new SplittingDestination(destination, 100);

        splitting.send(new Page(COHORT, PageAction.ADD_MEMBERS, "s-7", 3, 4, page(PageAction.ADD_MEMBERS, 4)
                .members()));

        assertThat(destination.sessions).containsExactly("s-7 3/4", "s-7.3.1 1/1", "s-7.3.2 1/1", "s-7.3.21 1/1",
                "s-7.3.22 1/1");
    }

    @Test
    void aPageWithoutBadMembersCostsNoExtraCall() throws Exception {
        SplittingDestination splitting = new SplittingDestination(destination, 100);

        DeliveryResult result = splitting.send(page(PageAction.ADD_MEMBERS, 1000));

        assertThat(result.rejections()).isEmpty();
        assertThat(destination.calls).hasSize(1);
        assertThat(splitting.extraRequests()).isZero();
        assertThat(destination.delivered).isEqualTo(ids(1000));
    }

    @Test
    void oneBadMemberInAThousandCostsAtMostTwentyExtraCalls() throws Exception {
        destination.bad.add("user-637");
        SplittingDestination splitting = new SplittingDestination(destination, 100);

        DeliveryResult result = splitting.send(page(PageAction.ADD_MEMBERS, 1000));

        assertThat(rejected(result)).containsExactly("user-637");
        assertThat(result.rejections().get(0).reason()).startsWith("refused by the destination when sent alone: ")
                .contains("HTTP 400: Invalid payload");
        assertThat(destination.calls.size() - 1).isEqualTo(splitting.extraRequests()).isLessThanOrEqualTo(20);
        List<String> others = new ArrayList<>(ids(1000));
        others.remove("user-637");
        // Everyone else once, in the page's order.
        assertThat(destination.delivered).isEqualTo(others);
    }

    @Test
    void threeBadMembersInAThousandStayWithinTheBound() throws Exception {
        destination.bad.addAll(List.of("user-3", "user-500", "user-998"));
        SplittingDestination splitting = new SplittingDestination(destination, 100);

        DeliveryResult result = splitting.send(page(PageAction.REMOVE_MEMBERS, 1000));

        assertThat(rejected(result)).containsExactly("user-3", "user-500", "user-998");
        assertThat(splitting.extraRequests()).isEqualTo(destination.calls.size() - 1)
                .isLessThanOrEqualTo(bound(3, 1000));
        List<String> others = new ArrayList<>(ids(1000));
        others.removeAll(List.of("user-3", "user-500", "user-998"));
        assertThat(destination.delivered).isEqualTo(others);
    }

    @Test
    void theCapEndsTheSplitWithThePagesRefusal() {
        destination.bad.addAll(List.of("user-3", "user-500", "user-998"));
        SplittingDestination splitting = new SplittingDestination(destination, 30);

        assertThatThrownBy(() -> splitting.send(page(PageAction.ADD_MEMBERS, 1000)))
                .isExactlyInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 400: Invalid payload")
                .hasMessageContaining("the 30 extra calls split.max.requests allows");
        assertThat(destination.calls.size() - 1).isLessThanOrEqualTo(30);
    }

    @Test
    void theCapCountsPerSyncAndANewSyncStartsAgain() throws Exception {
        destination.bad.add("user-1");
        SplittingDestination splitting = new SplittingDestination(destination, 20);
        splitting.send(page(PageAction.ADD_MEMBERS, 1000));

        assertThatThrownBy(() -> splitting.send(page(PageAction.ADD_MEMBERS, 1000)))
                .hasMessageContaining("split.max.requests");

        splitting.newSync();
        assertThat(rejected(splitting.send(page(PageAction.ADD_MEMBERS, 1000)))).containsExactly("user-1");
    }

    @Test
    void zeroDisablesSplitting() {
        destination.bad.add("user-1");
        SplittingDestination splitting = new SplittingDestination(destination, 0);

        assertThatThrownBy(() -> splitting.send(page(PageAction.ADD_MEMBERS, 1000)))
                .isInstanceOf(ContentRejectedException.class);
        assertThat(destination.calls).hasSize(1);
    }

    @Test
    void unauthorizedIsNeverSplit() {
        destination.unauthorized = true;
        SplittingDestination splitting = new SplittingDestination(destination, 100);

        assertThatThrownBy(() -> splitting.send(page(PageAction.ADD_MEMBERS, 1000)))
                .isExactlyInstanceOf(PermanentDeliveryException.class).hasMessageContaining("HTTP 401: bad key");
        assertThat(destination.calls).hasSize(1);
        assertThat(splitting.extraRequests()).isZero();
    }

    @Test
    void aFullSyncPageIsNotSplit() {
        destination.bad.add("user-1");
        SplittingDestination splitting = new SplittingDestination(destination, 100);

        assertThatThrownBy(() -> splitting.send(page(PageAction.MEMBERS, 10)))
                .isInstanceOf(ContentRejectedException.class);
        assertThat(destination.calls).hasSize(1);
    }

    @Test
    void aSingleMemberPageRefusedIsARejection() throws Exception {
        destination.bad.add("user-0");
        SplittingDestination splitting = new SplittingDestination(destination, 100);

        assertThat(rejected(splitting.send(page(PageAction.ADD_MEMBERS, 1)))).containsExactly("user-0");
        assertThat(destination.calls).hasSize(1);
        assertThat(splitting.extraRequests()).isZero();
    }

    @Test
    void aTransientFailureInsideASplitGetsTheRetryPolicyAndTheSplitResumesWhereItStopped() throws Exception {
        destination.bad.add("user-637");
        destination.transientAtCall = 6;
        SplittingDestination splitting = new SplittingDestination(destination, 100);
        Page page = page(PageAction.ADD_MEMBERS, 1000);
        RetryPolicy retries = new RetryPolicy("split-test", 3, 0, 0);

        DeliveryResult result = retries.call(() -> splitting.send(page));

        assertThat(rejected(result)).containsExactly("user-637");
        // The part that failed was sent again, nothing delivered before it was.
        assertThat(destination.calls.get(6)).isEqualTo(destination.calls.get(5));
        assertThat(destination.delivered).hasSize(999).doesNotHaveDuplicates();
        assertThat(splitting.extraRequests()).isLessThanOrEqualTo(20);
    }

    @Test
    void aTransientFailureWhoseRetriesRunOutLeavesTheSplitToResumeWhenThePageIsSentAgain() throws Exception {
        destination.bad.add("user-637");
        destination.transientAtCall = 4;
        SplittingDestination splitting = new SplittingDestination(destination, 100);
        Page page = page(PageAction.ADD_MEMBERS, 1000);

        assertThatThrownBy(() -> splitting.send(page)).isInstanceOf(TransientDeliveryException.class);
        int deliveredBefore = destination.delivered.size();
        DeliveryResult result = splitting.send(page);

        assertThat(deliveredBefore).isPositive();
        assertThat(rejected(result)).containsExactly("user-637");
        assertThat(destination.delivered).hasSize(999).doesNotHaveDuplicates();
    }

    @Test
    void eachPartWaitsAtTheGateBeforeItGoesAndThePageItselfDoesNot() throws Exception {
        destination.bad.add("user-2");
        SplittingDestination splitting = new SplittingDestination(destination, 100);
        List<Integer> callsBeforeEachWait = new ArrayList<>();
        splitting.pacedBy(() -> callsBeforeEachWait.add(destination.calls.size()));

        splitting.send(page(PageAction.ADD_MEMBERS, 4));

        // The page (call 1) had its turn from the sender; its four parts each wait just before they go.
        assertThat(destination.calls).hasSize(5);
        assertThat(callsBeforeEachWait).containsExactly(1, 2, 3, 4);
        splitting.send(page(PageAction.ADD_MEMBERS, 1));
        assertThat(callsBeforeEachWait).as("a page that is not split waits nowhere here").hasSize(4);
    }

    @Test
    void aWaitAtTheGateInterruptedEndsTheSplitAsCancelledAndKeepsTheInterrupt() {
        destination.bad.add("user-2");
        SplittingDestination splitting = new SplittingDestination(destination, 100);
        splitting.pacedBy(() -> {
            throw new InterruptedException("cancelled");
        });

        try {
            assertThatThrownBy(() -> splitting.send(page(PageAction.ADD_MEMBERS, 4)))
                    .isInstanceOf(CancellationException.class).hasMessageContaining("Split of");
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(destination.calls).as("only the page itself went").hasSize(1);
    }
}
