// Count word frequencies in text read from stdin and print them by descending count.
#include <algorithm>
#include <cctype>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

static std::string normalize(const std::string& token) {
    std::string word;
    for (char c : token) {
        if (std::isalnum(static_cast<unsigned char>(c))) {
            word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    return word;
}

int main() {
    std::ios::sync_with_stdio(false);
    std::cin.tie(nullptr);

    std::vector<std::pair<std::string, int>> counts;
    std::string token;
    long long total = 0;
    while (std::cin >> token) {
        std::string word = normalize(token);
        if (word.empty()) continue;
        ++total;
        bool found = false;
        for (auto& entry : counts) {
            if (entry.first == word) {
                ++entry.second;
                found = true;
                break;
            }
        }
        if (!found) counts.emplace_back(word, 1);
    }

    std::sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    std::cout << "total " << total << "\nunique " << counts.size() << "\n";
    for (const auto& [word, count] : counts) std::cout << word << ' ' << count << '\n';
    return 0;
}
