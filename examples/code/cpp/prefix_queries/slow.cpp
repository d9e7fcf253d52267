// Answer range-sum queries over an array of daily sales figures.
#include <cstdio>
#include <vector>

static long long range_sum(const std::vector<long long>& values, int left, int right) {
    long long total = 0;
    for (int i = left; i <= right; ++i) total += values[i];
    return total;
}

int main() {
    int n = 0, q = 0;
    if (std::scanf("%d", &n) != 1) return 0;
    std::vector<long long> values(n);
    for (int i = 0; i < n; ++i) std::scanf("%lld", &values[i]);
    if (std::scanf("%d", &q) != 1) q = 0;

    long long checksum = 0;
    for (int k = 0; k < q; ++k) {
        int left = 0, right = 0;
        std::scanf("%d %d", &left, &right);
        if (left > right || left < 0 || right >= n) {
            std::printf("invalid\n");
            continue;
        }
        long long total = range_sum(values, left, right);
        checksum ^= total;
        std::printf("%lld %.3f\n", total, static_cast<double>(total) / (right - left + 1));
    }
    std::printf("checksum %lld\n", checksum);
    return 0;
}
