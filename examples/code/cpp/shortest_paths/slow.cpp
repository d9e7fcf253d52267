// Shortest travel times between pairs of junctions of a road network (one-way roads, minutes >= 0).
// Input: n m q, then m lines "from to minutes" (junctions 0..n-1), then q lines "from to".
// Output: one line per query, the shortest total minutes or -1 if the target cannot be reached.
#include <iostream>
#include <vector>

struct Road {
    int from, to;
    long long minutes;
};

static long long shortest(int n, const std::vector<Road>& roads, int source, int target) {
    const long long unreached = -1;
    std::vector<long long> dist(n, unreached);
    std::vector<bool> done(n, false);
    dist[source] = 0;
    for (int round = 0; round < n; ++round) {
        int best = -1;
        for (int v = 0; v < n; ++v) {
            if (!done[v] && dist[v] != unreached && (best == -1 || dist[v] < dist[best])) best = v;
        }
        if (best == -1) break;
        done[best] = true;
        if (best == target) break;
        for (const Road& road : roads) {
            if (road.from != best) continue;
            long long through = dist[best] + road.minutes;
            if (dist[road.to] == unreached || through < dist[road.to]) dist[road.to] = through;
        }
    }
    return dist[target];
}

int main() {
    int n, m, q;
    if (!(std::cin >> n >> m >> q)) return 0;
    std::vector<Road> roads(m);
    for (Road& road : roads) std::cin >> road.from >> road.to >> road.minutes;
    for (int i = 0; i < q; ++i) {
        int source, target;
        std::cin >> source >> target;
        std::cout << shortest(n, roads, source, target) << "\n";
    }
    return 0;
}
