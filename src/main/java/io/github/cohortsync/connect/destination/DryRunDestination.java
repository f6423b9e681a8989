package io.github.cohortsync.connect.destination;

import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code dry.run=true}: takes every page the sync builds as accepted without any call, and counts them, so that one
 * INFO line per sync can say what a real run would have sent. The destination it stands for is asked only what it
 * reads ({@link #readsProperty}, {@link #snapshotIncludesLeavers}), so the pages are built exactly as for it; checks
 * the destination makes while sending (e.g. a member without an email) are not made.
 */
public final class DryRunDestination extends WrappingDestination {
    private final Map<PageAction, AtomicLong> pages = new EnumMap<>(PageAction.class);
    private final Map<PageAction, AtomicLong> members = new EnumMap<>(PageAction.class);
    private final Set<String> cohorts = ConcurrentHashMap.newKeySet();

    public DryRunDestination(Destination destination) {
        super(destination);
        for (PageAction action : PageAction.values()) {
            pages.put(action, new AtomicLong());
            members.put(action, new AtomicLong());
        }
    }

    @Override
    public DeliveryResult send(Page page) {
        pages.get(page.action()).incrementAndGet();
        members.get(page.action()).addAndGet(page.members().size());
        cohorts.add(page.cohort().id());
        return DeliveryResult.allAccepted();
    }

    /**
     * What the pages taken since the last summary would have sent, e.g. "3 pages to 2 cohorts: members 0 pages (0
     * members), add_members 2 pages (1500 members), remove_members 1 page (12 members)"; then starts counting again.
     */
    public synchronized String takeSummary() {
        long total = 0;
        StringBuilder parts = new StringBuilder();
        for (PageAction action : PageAction.values()) {
            long count = pages.get(action).getAndSet(0);
            total += count;
            parts.append(parts.isEmpty() ? "" : ", ").append(action.wireName()).append(' ').append(count)
                    .append(count == 1 ? " page (" : " pages (").append(members.get(action).getAndSet(0))
                    .append(" members)");
        }
        int cohortCount = cohorts.size();
        cohorts.clear();
        return total + (total == 1 ? " page" : " pages") + " to " + cohortCount
                + (cohortCount == 1 ? " cohort: " : " cohorts: ") + parts;
    }
}
